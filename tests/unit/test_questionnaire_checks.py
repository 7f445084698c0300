"""What keeps a questionnaire version from being published, found at the field it belongs to."""
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from app.core.questionnaire_checks import (
    DimensionSpec,
    OptionSpec,
    QuestionSpec,
    RuleSpec,
    VersionSpec,
    key_problem,
    option_problems,
    problems_by_field,
    publish_problems,
    rule_problem,
    weights_problem,
)


def _t(zh: str, en: str) -> dict[str, str]:
    return {"zh_Hans": zh, "en": en}


OPTIONS = (OptionSpec("waiting", _t("等待", "Waiting")), OptionSpec("attitude", _t("态度", "Attitude")))
QUESTIONS = (
    QuestionSpec(1, "service", 1, "csat", _t("服务？", "Service?")),
    QuestionSpec(2, "problem", 2, "multiple", _t("哪里？", "What?"), options=OPTIONS),
    QuestionSpec(3, "nps", 3, "nps", _t("推荐？", "Recommend?")),
    QuestionSpec(4, "comment", 4, "text", _t("还有？", "Anything else?")),
    QuestionSpec(5, "contact", 4, "contact", _t("联系？", "Contact?")),
)
FOLLOW_UP = RuleSpec(1, source=1, operator="lte", value="3", action="show", target=2)
GOOD = VersionSpec(
    languages=("zh_Hans", "en"),
    title=_t("标题", "Title"),
    intro={},
    thanks=_t("谢谢", "Thanks"),
    questions=QUESTIONS,
    dimensions=(DimensionSpec(1, "product", 40), DimensionSpec(2, "service", 35), DimensionSpec(3, "environment", 25)),
    rules=(FOLLOW_UP,),
)


def codes(problems):
    return {(p.field, p.code) for p in problems}


def test_a_complete_version_has_no_problems():
    assert publish_problems(GOOD) == []


def test_a_version_without_questions_cannot_be_published():
    assert ("questions", "no_questions") in codes(publish_problems(replace(GOOD, questions=(), rules=())))


def test_weights_must_add_up_to_exactly_100_when_there_are_dimensions():
    assert weights_problem([40, 35, 25]) is None
    assert weights_problem([]) is None
    problem = weights_problem([40, 35, 20])
    assert problem.field == "weights" and problem.params == {"total": 95}
    assert weights_problem([50, 60, -10]).code == "weight_negative"
    uneven = replace(GOOD, dimensions=(DimensionSpec(1, "product", 60), DimensionSpec(2, "service", 60)))
    assert ("weights", "weights_total") in codes(publish_problems(uneven))


@given(st.lists(st.integers(0, 100), min_size=1, max_size=6))
def test_weights_are_refused_exactly_when_they_do_not_add_up_to_100(weights):
    assert (weights_problem(weights) is None) == (sum(weights) == 100)


def test_every_offered_language_needs_the_title_prompts_and_option_labels():
    missing = replace(
        GOOD,
        title={"zh_Hans": "标题"},
        questions=(
            replace(QUESTIONS[0], prompt={"zh_Hans": "服务？"}),
            replace(QUESTIONS[1], options=(OPTIONS[0], OptionSpec("attitude", {"zh_Hans": "态度"}))),
            *QUESTIONS[2:],
        ),
    )
    found = codes(publish_problems(missing))
    assert ("title_en", "missing_text") in found
    assert ("question-1-prompt_en", "missing_text") in found
    assert ("question-2-options", "missing_option_label") in found
    assert not any(field.endswith("zh_Hans") for field, _code in found)


def test_a_language_not_offered_needs_no_texts():
    chinese_only = replace(GOOD, languages=("zh_Hans",), title={"zh_Hans": "标题"},
                           questions=tuple(replace(q, prompt={"zh_Hans": "问"}) for q in QUESTIONS[:1]), rules=())
    assert publish_problems(chinese_only) == []


def test_optional_texts_given_in_one_language_are_needed_in_every_offered_one():
    found = codes(publish_problems(replace(GOOD, intro={"en": "One minute"})))
    assert found == {("intro_zh_Hans", "missing_text")}


def test_no_language_offered_is_refused_at_the_languages_field():
    assert ("languages", "no_language") in codes(publish_problems(replace(GOOD, languages=())))


def test_question_keys_are_safe_slugs_and_unique():
    assert key_problem("service_speed") is None
    for bad in ("", "Service", "1st", "with space", "dash-ed", "x" * 41, "ä"):
        assert key_problem(bad) == "key_format", bad
    assert key_problem("nps", ["service", "nps"]) == "key_taken"
    twice = replace(GOOD, questions=(*QUESTIONS, QuestionSpec(6, "nps", 5, "nps", _t("再推荐？", "Again?"))))
    assert ("question-6-key", "key_taken") in codes(publish_problems(twice))


def test_choice_questions_need_two_options_with_different_plain_values():
    assert option_problems("single", OPTIONS) == []
    assert option_problems("single", OPTIONS[:1]) == ["too_few_options"]
    assert "duplicate_option" in option_problems("multiple", (OPTIONS[0], OPTIONS[0]))
    assert "option_value_format" in option_problems("single", (OPTIONS[0], OptionSpec("a b", {})))
    assert option_problems("csat", ()) == []


def test_a_rule_pointing_backwards_or_to_its_own_step_is_refused():
    backwards = RuleSpec(2, source=3, operator="lte", value="6", action="show", target=1)
    assert rule_problem(backwards, QUESTIONS).code == "rule_backwards"
    same_step = RuleSpec(3, source=4, operator="answered", value="", action="skip", target=5)
    assert rule_problem(same_step, QUESTIONS).code == "rule_backwards"
    itself = RuleSpec(4, source=1, operator="lte", value="3", action="show", target=1)
    assert rule_problem(itself, QUESTIONS).code == "rule_same_question"
    found = codes(publish_problems(replace(GOOD, rules=(FOLLOW_UP, backwards))))
    assert found == {("rule-2", "rule_backwards")}


def test_rules_can_never_form_a_loop():
    """Two rules that would read each other: at least one of them points backwards."""
    forward = RuleSpec(1, source=1, operator="lte", value="3", action="show", target=3)
    back = RuleSpec(2, source=3, operator="lte", value="6", action="skip", target=1)
    assert rule_problem(forward, QUESTIONS) is None
    assert rule_problem(back, QUESTIONS).code == "rule_backwards"


def test_a_rule_must_fit_the_type_of_the_question_it_reads():
    questions = (*QUESTIONS[:4], replace(QUESTIONS[4], step=5))

    def check(source, operator, value):
        problem = rule_problem(RuleSpec(1, source, operator, value, "show", 5), questions)
        return problem.code if problem else None

    assert check(1, "lte", "3") is None
    assert check(1, "lte", "7") == "rule_value_number"
    assert check(3, "lte", "7") is None
    assert check(1, "lte", "") == "rule_value_missing"
    assert check(1, "includes", "3") == "rule_operator_type"
    assert check(2, "includes", "waiting") is None
    assert check(2, "includes", "parking") == "rule_value_option"
    assert check(4, "answered", "") is None
    assert check(4, "eq", "hello") == "rule_operator_type"
    assert rule_problem(RuleSpec(1, 5, "answered", "", "show", 4), questions).code == "rule_backwards"
    contact_first = (replace(QUESTIONS[4], step=1), QUESTIONS[3])
    assert rule_problem(RuleSpec(1, 5, "answered", "", "show", 4), contact_first).code == "rule_reads_contact"


def test_more_than_ten_questions_or_two_contact_questions_are_refused():
    many = tuple(QuestionSpec(i, f"q{i}", i, "csat", _t("问", "Q")) for i in range(1, 12))
    found = codes(publish_problems(replace(GOOD, questions=many, rules=())))
    assert ("questions", "too_many_questions") in found
    two = (*QUESTIONS, QuestionSpec(9, "contact_again", 5, "contact", _t("联系？", "Contact?")))
    assert ("questions", "two_contact_questions") in codes(publish_problems(replace(GOOD, questions=two)))


def test_problems_group_by_field():
    grouped = problems_by_field(publish_problems(replace(GOOD, title={}, questions=(), rules=())))
    assert set(grouped) == {"title_zh_Hans", "title_en", "questions"}
