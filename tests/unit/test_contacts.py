"""A known customer's phone, e-mail, language, consent and attribute values as people type them."""
from datetime import date, datetime

import pytest

from app.core.contacts import (
    AttributeType,
    ContactProblem,
    attribute_value,
    choices_text,
    guess_mapping,
    language,
    normalised_email,
    normalised_phone,
    parse_choices,
    phone_region,
    yes_no,
)


def test_a_local_number_is_read_in_its_branch_country_and_stored_in_e164():
    assert normalised_phone("138 1234 5678", "CN") == "+8613812345678"
    assert normalised_phone("020 7946 0018", "GB") == "+442079460018"
    assert normalised_phone("0086 138-1234-5678", "GB") == "+8613812345678"
    assert normalised_phone("+852 9123 4567", "CN") == "+85291234567"
    assert normalised_phone("  ", "CN") is None


@pytest.mark.parametrize("raw", ["12345", "phone me", "+86 138 1234 567", "0000000000000000000"])
def test_a_number_no_operator_gives_out_is_refused(raw):
    with pytest.raises(ContactProblem) as refused:
        normalised_phone(raw, "CN")
    assert refused.value.code == "phone_invalid"


def test_a_branch_region_gives_its_country_and_nothing_gives_china():
    assert phone_region("GB-ENG") == "GB" and phone_region("HK") == "HK"
    assert phone_region(None) == "CN" and phone_region("") == "CN"


def test_an_email_is_checked_by_syntax_only_and_its_domain_lower_cased():
    assert normalised_email(" Li.Wei@Example.COM ") == "Li.Wei@example.com"
    assert normalised_email("wang@no-such-domain-for-loopdesk.cn") == "wang@no-such-domain-for-loopdesk.cn"
    for raw in ("li@", "not an address", "a@b@c.com"):
        with pytest.raises(ContactProblem):
            normalised_email(raw)


def test_languages_by_tag_or_name_and_consent_by_yes_or_no():
    assert [language(v) for v in ("zh-CN", "English", "繁體中文", "zh_Hant", "")] == ["zh_Hans", "en", "zh_Hant", "zh_Hant", None]
    with pytest.raises(ContactProblem):
        language("français")
    assert [yes_no(v) for v in ("是", "Yes", "0", "否", "", None)] == [True, True, False, False, None, None]
    with pytest.raises(ContactProblem):
        yes_no("maybe")


def test_attribute_values_are_stored_so_both_databases_compare_them_alike():
    choices = [{"value": "high", "labels": {"zh_Hans": "高价值", "en": "High"}}, {"value": "low", "labels": {}}]
    assert attribute_value("高价值", AttributeType.CHOICE, choices) == "high"
    assert attribute_value("LOW", AttributeType.CHOICE, choices) == "low"
    assert attribute_value("2024/3/1", AttributeType.DATE) == "2024-03-01"
    assert attribute_value(datetime(2024, 3, 1, 12), AttributeType.DATE) == "2024-03-01"
    assert attribute_value(date(2023, 12, 31), AttributeType.DATE) == "2023-12-31"
    assert attribute_value("1,200,000", AttributeType.NUMBER) == 1200000
    assert attribute_value("2.5", AttributeType.NUMBER) == 2.5
    assert attribute_value("vip、 新客户, vip", AttributeType.TAGS) == ["vip", "新客户"]
    for raw, kind in (("medium", AttributeType.CHOICE), ("soon", AttributeType.DATE), ("many", AttributeType.NUMBER),
                      ("nan", AttributeType.NUMBER)):
        with pytest.raises(ContactProblem):
            attribute_value(raw, kind, choices)


def test_choices_are_written_one_a_line_and_read_back_the_same():
    text = "high | 高价值 | High\nmedium | 中价值\nlow"
    parsed = parse_choices(text + "\nhigh")
    assert [c.value for c in parsed] == ["high", "medium", "low"]
    assert choices_text([{"value": c.value, "labels": dict(c.labels)} for c in parsed]) == text


def test_columns_are_guessed_from_chinese_and_english_headers():
    headers = ["客户编号", "姓名", "手机号码", "E-mail", "公司名称", "价值等级", "Notes", "电话"]
    assert guess_mapping(headers, {"tier": ["价值等级", "Value tier"]}) == [
        "external_id", "name", "phone", "email", "company", "attr:tier", "", ""]
