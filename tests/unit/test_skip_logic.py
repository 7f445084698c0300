from hypothesis import given
from hypothesis import strategies as st

from app.core.skip_logic import Rule, condition_holds, rule_problems, visible_questions

KEYS = ["product", "service", "service_problem", "environment", "nps"]
FOLLOW_UP = Rule(source="service", operator="lte", value="3", action="show", target="service_problem")


def test_follow_up_is_asked_only_when_service_scored_three_or_less():
    assert "service_problem" in visible_questions(KEYS, [FOLLOW_UP], {"service": 3})
    assert "service_problem" not in visible_questions(KEYS, [FOLLOW_UP], {"service": 4})


def test_follow_up_is_not_asked_before_service_is_answered():
    assert "service_problem" not in visible_questions(KEYS, [FOLLOW_UP], {})


def test_skip_rule_leaves_a_question_out():
    rule = Rule(source="product", operator="eq", value="5", action="skip", target="environment")
    assert "environment" not in visible_questions(KEYS, [rule], {"product": 5})
    assert "environment" in visible_questions(KEYS, [rule], {"product": 4})


def test_chain_follows_a_hidden_question_as_unanswered():
    chain = Rule(source="service_problem", operator="answered", value="", action="show", target="nps")
    answers = {"service": 5, "service_problem": ["waiting"]}  # stale answer from before going back
    assert "nps" not in visible_questions(KEYS, [FOLLOW_UP, chain], answers)


def test_includes_reads_multiple_choice_and_single_choice_compares_its_value():
    assert condition_holds("includes", "waiting", ["attitude", "waiting"])
    assert condition_holds("excludes", "waiting", ["attitude"])
    assert condition_holds("eq", "yes", ["yes"])
    assert not condition_holds("lte", "3", "abc")


def test_rules_may_only_point_forward_to_a_later_step():
    steps = {key: i for i, key in enumerate(KEYS)}
    backwards = Rule(source="nps", operator="lte", value="6", action="show", target="product")
    assert rule_problems(KEYS, steps, [FOLLOW_UP]) == []
    assert rule_problems(KEYS, steps, [backwards])
    same_step = rule_problems(KEYS, {**steps, "service_problem": steps["service"]}, [FOLLOW_UP])
    assert same_step


@given(st.dictionaries(st.sampled_from(KEYS), st.integers(0, 10)))
def test_questions_without_rules_are_always_visible_in_order(answers):
    assert visible_questions(KEYS, [], answers) == KEYS
    shown = visible_questions(KEYS, [FOLLOW_UP], answers)
    assert shown == [k for k in KEYS if k in shown]
