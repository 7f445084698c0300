"""Reading what a customer says on the phone as a ticket search (app/core/ticket_search)."""
import pytest

from app.core.ticket_search import SearchQuery, doubled, fold, like_pattern, phone_digits, searchable_text, snippet


@pytest.mark.parametrize("said", ["LD-E5VYND", "ld-e5vynd", "E5VYND", "e5v ynd", "LD E5V-YND", " lde5vynd ", "ＬＤ－Ｅ５ＶＹＮＤ"])
def test_a_reference_code_is_read_with_or_without_prefix_spaces_or_capitals(said):
    assert SearchQuery.parse(said).reference_code == "LD-E5VYND"


@pytest.mark.parametrize("said", ["coffee", "LD-E5VYN", "LD-E5VYNDX", "138 0013 8000", "LD-E0VYND"])
def test_what_cannot_be_a_code_is_not_read_as_one(said):
    assert SearchQuery.parse(said).reference_code is None


@pytest.mark.parametrize("said, digits", [
    ("138 0013 8000", "800138000"),
    ("+86 138-0013-8000", "800138000"),
    ("0086 13800138000", "800138000"),
    ("(138) 0013.8000", "800138000"),
    ("８０００", "8000"),
    ("8000", "8000"),
])
def test_a_phone_number_is_its_digits_and_of_a_long_one_the_last_nine(said, digits):
    assert SearchQuery.parse(said).phone == digits


@pytest.mark.parametrize("said", ["800", "cold coffee", "138 abc", "LD-E5VYND", "١٢٣٤٥"])
def test_words_and_short_numbers_are_no_phone_number(said):
    assert SearchQuery.parse(said).phone is None


def test_words_are_folded_split_and_capped():
    assert SearchQuery.parse("  Cold  COFFEE 态度 ").words == ("cold", "coffee", "态度")
    assert len(SearchQuery.parse("a " * 50).words) == 6
    assert SearchQuery.parse("x" * 10_000).words == ("x" * 100,)
    assert SearchQuery.parse("a\x00b").words == ("ab",)
    assert SearchQuery.parse("   ").is_empty


def test_wildcards_typed_are_matched_as_themselves():
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


def test_chinese_is_doubled_alike_in_the_text_and_the_pattern_so_substrings_still_match():
    assert doubled("开发票，iPhone坏了 ok") == "开开发发票票，iPhone坏坏了了 ok"
    text = doubled("客户要开发票")
    for word in ("发票", "开发票", "客户要开发票", "户"):
        assert doubled(word) in text
    for word in ("票发", "客要", "发 票"):
        assert doubled(word) not in text
    assert like_pattern("发票%") == "%发发票票\\%%"


def test_the_searchable_text_holds_code_phone_digits_email_and_words_folded():
    text = searchable_text(
        reference_code="LD-E5VYND", contact_phone="+86 138-0013-8000", contact_email="Li.Wei@Example.COM",
        contact_name=None, subject="排队等了很久", description="Cold COFFEE", bodies=["Ｎｏｔｅ one", None],
    )
    assert text.split("\n") == [
        "ld-e5vynd", "8613800138000", "li.wei@example.com", "排排队队等等了了很很久久", "cold coffee", "note one",
    ]
    assert phone_digits("١٢٣ 456") == "456"
    assert fold("ＡＢＣ") == "abc"


def test_a_snippet_is_cut_around_the_first_text_holding_a_word():
    query = SearchQuery.parse("COFFEE")
    found = snippet([None, "no match here", "The coffee was cold and nobody refunded it.\nSecond line"], query)
    assert (found.before, found.match, found.after) == ("The ", "coffee", " was cold and nobody refunded it. Second line")
    long = snippet(["x" * 100 + "服务员态度很差" + "y" * 100], SearchQuery.parse("态度"))
    assert long.before.startswith("…") and long.match == "态度" and long.after.endswith("…")
    assert snippet(["nothing"], SearchQuery.parse("coffee")) is None
