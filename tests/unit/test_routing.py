from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.routing import (
    DEFAULT_RULES,
    AnswerCondition,
    QuestionKind,
    RoutedResponse,
    RoutingSettings,
    Rule,
    categorise,
    is_negative,
    route,
)
from app.core.routing_keywords import find_keywords
from app.core.routing_rule_checks import rule_problems
from app.core import sentiment


@pytest.fixture(scope="module", autouse=True)
def _lexicons_loaded():
    """Loaded once before the property tests, as a worker does before its first job: their first example
    would otherwise spend Hypothesis's 200 ms deadline loading them (1.5 s)."""
    sentiment.warm_up()


# The default questionnaire of questionnaire_templates, as routing sees it.
QUESTIONS = {
    "product": QuestionKind("csat", "product"),
    "service": QuestionKind("csat", "service"),
    "service_problem": QuestionKind("multiple", "service"),
    "environment": QuestionKind("csat", "environment"),
    "nps": QuestionKind("nps"),
    "comment": QuestionKind("text"),
    "contact": QuestionKind("contact"),
}
HAPPY = {"product": 5, "service": 4, "environment": 5, "nps": 9}
DEPARTMENTS = {"product", "service", "operations", "triage"}


def response(branch="SH-01", region="east", **answers):
    return RoutedResponse(branch_code=branch, region=region, answers={**HAPPY, **answers}, questions=QUESTIONS)


def neutral(**answers):
    """Negative only through what the test adds: every score is in the middle."""
    return response(**{"product": 3, "service": 3, "environment": 3, "nps": 7, **answers})


def complaint(text):
    return bool(is_negative(neutral(comment=text)))


def test_csat_of_two_or_less_is_negative():
    assert [str(r) for r in is_negative(response(service=2))] == ["service CSAT 2 ≤ 2"]
    assert not is_negative(response(service=3))


def test_nps_of_six_or_less_is_negative():
    assert [str(r) for r in is_negative(response(nps=6))] == ["nps NPS 6 ≤ 6"]
    assert not is_negative(response(nps=7))


@pytest.mark.parametrize("text", ["我要投诉你们", "服务员态度很差", "The staff were RUDE", "I want a refund", "Ｒｕｄｅ staff"])
def test_written_complaint_in_chinese_or_english_is_negative(text):
    assert complaint(text)


def test_happy_response_opens_no_ticket():
    assert route(response(comment="很好，下次还来！Great coffee.")) is None


@pytest.mark.parametrize("text", [
    "服务不错", "味道不差", "上菜不太慢", "一点也不脏", "服务不是很差", "没有不满意", "差不多挺好的",
    "not bad", "Not bad at all", "it wasn't too slow", "no complaints", "nothing wrong with it",
])
def test_praise_with_a_negation_is_not_a_complaint(text):
    assert not complaint(text)


def test_a_negated_keyword_still_counts_where_it_appears_again_without_negation():
    assert complaint("大厅不脏，但是洗手间很脏")
    assert complaint("not bad food, but a bad queue")


def test_english_keywords_match_whole_words_with_common_endings():
    texts = [("comment", "Waited ages, the waiter ignored us; nice badge though")]
    assert [hit.keyword for hit in find_keywords(texts, ["wait", "ignore", "bad"])] == ["wait", "ignore"]


def test_service_csat_two_routes_to_customer_service():
    decision = route(response(service=2))
    assert (decision.category, decision.department, decision.priority) == ("service", "service", "normal")
    assert decision.explanation[:2] == ["service CSAT 2 ≤ 2", "service CSAT 2 → service"]
    assert decision.rule.name == "Service problems"


def test_low_product_score_routes_to_the_product_department():
    decision = route(response(product=2))
    assert (decision.category, decision.department) == ("product", "product")


def test_queueing_keyword_in_chinese_text_routes_to_service():
    decision = route(neutral(nps=3, comment="排队排了四十分钟"))
    assert (decision.category, decision.department) == ("service", "service")
    assert 'keyword "排队" → service' in decision.explanation


def test_dirty_toilet_in_english_routes_to_store_operations():
    decision = route(neutral(comment="the toilet was dirty"))
    assert (decision.category, decision.department) == ("environment", "operations")
    assert 'complaint keyword "dirt" in comment' in decision.explanation


def test_missing_call_back_is_communication_for_customer_service():
    decision = route(neutral(nps=4, comment="说好回电，结果没人通知我"))
    assert (decision.category, decision.department) == ("communication", "service")


def test_keywords_outweigh_a_low_score_of_another_dimension():
    category, reasons = categorise(neutral(product=2, comment="排队太久，服务员态度也差"))
    assert category == "service"
    assert [str(r) for r in reasons] == [
        'keyword "排队" → service', 'keyword "太久" → service', 'keyword "服务员" → service', 'keyword "态度" → service',
    ]


def test_a_keyword_tie_goes_to_the_low_scored_dimension():
    category, _ = categorise(neutral(product=2, comment="服务员还行，菜品一般"))
    assert category == "product"
    category, _ = categorise(neutral(nps=2, comment="服务员还行，菜品一般"))
    assert category == "service"  # no low score: the one mentioned first


def test_a_negative_response_without_a_category_lands_in_triage():
    decision = route(neutral(nps=5))
    assert (decision.category, decision.department, decision.priority, decision.rule) == (None, "triage", "normal", None)
    assert decision.explanation == ["nps NPS 5 ≤ 6", "no keyword or low score points to a category",
                                    "no rule matched → triage, normal"]


def test_a_negative_response_matching_no_rule_lands_in_triage():
    only_products = [DEFAULT_RULES[0]]
    decision = route(response(service=1), only_products, triage_department="front-desk")
    assert (decision.department, decision.rule) == ("front-desk", None)


def test_first_matching_rule_by_position_wins():
    vip = Rule(position=0, name="VIP branch", branch_codes=["SH-01"], department="operations", priority="high")
    decision = route(response(service=2), [*DEFAULT_RULES, vip])
    assert decision.rule == vip and decision.department == "operations"
    assert route(response(service=2, branch="BJ-02"), [*DEFAULT_RULES, vip]).department == "service"


def test_every_rule_may_match_but_one_decision_comes_back():
    catch_all = Rule(position=9, name="Everything", department="triage")
    angry = response(product=1, service=1, environment=1, nps=0, comment="太脏了，投诉")
    decision = route(angry, [*DEFAULT_RULES, catch_all])
    assert decision.rule == DEFAULT_RULES[3]  # 脏 → environment; the catch-all comes later


def test_branch_and_region_conditions_must_both_hold():
    rule = Rule(position=1, name="East flagship", branch_codes={"SH-01"}, regions={"east"}, department="operations")
    assert route(response(service=2), [rule]).rule == rule
    assert route(response(service=2, region="north"), [rule]).rule is None
    assert route(response(service=2, branch="SH-02"), [rule]).rule is None


def test_answer_conditions_use_the_skip_logic_operators():
    waiting = Rule(
        position=1, name="Waiting at the counter", department="operations",
        conditions=[AnswerCondition("service", "lte", "2"), AnswerCondition("service_problem", "includes", "waiting")],
    )
    decision = route(response(service=2, service_problem=["attitude", "waiting"]), [waiting])
    assert decision.rule == waiting
    assert "service ≤ 2 (answer: 2)" in decision.explanation
    assert route(response(service=2, service_problem=["attitude"]), [waiting]).rule is None


def test_keyword_condition_and_category_override():
    refunds = Rule(position=1, name="Refunds", keywords=["退款", "refund"], set_category="service", department="service")
    decision = route(neutral(comment="质量太差，我要退款"), [refunds, *DEFAULT_RULES])
    assert (decision.rule, decision.category) == (refunds, "service")
    assert decision.explanation[-1] == "category set to service"


@pytest.mark.parametrize("text", ["吃完食物中毒了", "孩子在门口摔倒受伤", "Got food poisoning", "the kitchen was on fire"])
def test_safety_keywords_make_the_ticket_urgent(text):
    decision = route(neutral(environment=2, comment=text))
    assert decision.priority == "urgent"


def test_hotpot_and_a_fired_waiter_are_not_safety_issues():
    assert route(neutral(nps=3, comment="火锅很辣，that waiter should be fired")).priority == "normal"


def test_csat_of_one_makes_the_ticket_high_but_never_lowers_a_rule():
    decision = route(response(product=1))
    assert decision.priority == "high"
    assert decision.explanation[-1] == "product CSAT 1 ≤ 1 → high"
    urgent_rule = Rule(position=1, name="All urgent", department="product", priority="urgent")
    assert route(response(product=1), [urgent_rule]).priority == "urgent"


def test_triggers_can_be_configured():
    strict = RoutingSettings(csat_at_most=3, nps_at_most=4, complaint_keywords=("meh",), sentiment_lexicon=False)
    assert is_negative(response(service=3), strict)
    assert not is_negative(response(nps=6), strict)
    assert is_negative(response(comment="meh"), strict)
    assert not is_negative(response(comment="rude"), strict)
    # the shipped sentiment lexicon reads what the keyword list no longer names
    assert is_negative(response(comment="rude"), replace(strict, sentiment_lexicon=True))


def test_default_rules_have_no_problems():
    assert rule_problems(DEFAULT_RULES, DEPARTMENTS, QUESTIONS) == []


def test_rule_problems_name_the_field_to_fix():
    rules = [
        Rule(position=1, name="No target", department=""),
        Rule(position=2, name="Gone", department="billing", priority="asap", set_category="price"),
        Rule(position=3, name="Typos", department="service", categories={"servce"}, keywords=[" "], conditions=[
            AnswerCondition("servce", "lte", "2"),
            AnswerCondition("service", "about", "2"),
            AnswerCondition("service", "lte", "two"),
        ]),
    ]
    found = [(p.position, p.field, p.message) for p in rule_problems(rules, DEPARTMENTS, QUESTIONS)]
    assert found == [
        (1, "department", "choose a department"),
        (2, "department", "unknown department 'billing'"),
        (2, "priority", "unknown priority 'asap'; use urgent, high, normal, low"),
        (2, "set_category", "unknown category 'price'"),
        (3, "categories", "unknown category 'servce'"),
        (3, "conditions", "unknown question 'servce'"),
        (3, "conditions", "unknown operator 'about'"),
        (3, "conditions", "service lte needs a number, got 'two'"),
        (3, "keywords", "a keyword is empty"),
    ]
    assert str(rule_problems(rules, DEPARTMENTS, QUESTIONS)[0]) == 'rule 1 "No target": choose a department'


# Properties -----------------------------------------------------------------------------------

FRAGMENTS = ["排队", "不", "脏", "很差", "不错", "服务员", "食物中毒", "rude", "not", "bad", "toilet", "call", " ", "，", "ok"]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join)
responses = st.builds(
    lambda product, service, environment, nps, problems, comment, branch, region: RoutedResponse(
        branch_code=branch, region=region, questions=QUESTIONS,
        answers={"product": product, "service": service, "environment": environment, "nps": nps,
                 "service_problem": problems, "comment": comment},
    ),
    st.none() | st.integers(1, 5), st.none() | st.integers(1, 5), st.none() | st.integers(1, 5),
    st.none() | st.integers(0, 10), st.lists(st.sampled_from(["waiting", "attitude", "after_sales"]), unique=True),
    st.none() | texts, st.sampled_from(["SH-01", "BJ-02"]), st.sampled_from(["east", "north", ""]),
)
rules = st.builds(
    Rule,
    position=st.integers(0, 5),
    name=st.sampled_from(["a", "b"]),
    department=st.sampled_from(["product", "service", "operations"]),
    priority=st.sampled_from(["urgent", "high", "normal", "low"]),
    categories=st.sets(st.sampled_from(["product", "service", "communication", "environment"]), max_size=2),
    branch_codes=st.sets(st.sampled_from(["SH-01", "BJ-02"]), max_size=1),
    conditions=st.lists(st.builds(AnswerCondition, st.sampled_from(["service", "nps"]), st.sampled_from(["lte", "gte"]),
                                  st.sampled_from(["2", "6"])), max_size=1),
    keywords=st.lists(st.sampled_from(["排队", "rude", "toilet"]), max_size=1),
)


@given(responses, st.lists(rules, max_size=4))
def test_routing_is_deterministic_and_stays_within_the_rules_targets(routed, rule_list):
    decision = route(routed, rule_list)
    assert decision == route(routed, rule_list)
    if decision is not None:
        assert decision.department in {rule.department for rule in rule_list} | {"triage"}
        assert decision.priority in ("urgent", "high", "normal", "low")


@given(responses, st.lists(rules, max_size=4))
def test_a_ticket_opens_exactly_when_the_response_is_negative(routed, rule_list):
    assert (route(routed, rule_list) is None) == (not is_negative(routed))


@given(responses, st.permutations(DEFAULT_RULES))
def test_rule_order_comes_from_positions_not_from_the_list(routed, shuffled):
    assert route(routed, shuffled) == route(routed, DEFAULT_RULES)
