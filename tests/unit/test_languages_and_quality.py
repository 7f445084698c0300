from app.core.languages import best_locale, locale_for_tag, pick_text
from app.core.quality import REPEAT_DEVICE, STRAIGHT_LINING, TOO_FAST, quality_flags


def test_mainland_and_unmarked_chinese_phones_get_simplified_chinese():
    for tag in ("zh-CN", "zh", "zh-Hans-CN", "zh-SG", "zh-Hans-HK", "zh-Hans-TW", "zh_Hans", "ZH-cn"):
        assert best_locale([tag], default="en") == "zh_Hans", tag


def test_taiwan_hong_kong_and_macau_phones_get_traditional_chinese():
    for tag in ("zh-TW", "zh-HK", "zh-MO", "zh-Hant", "zh-Hant-TW", "zh-Hant-HK", "zh-Hant-CN", "zh_Hant", "zh-hk",
                "zh-yue-HK"):
        assert locale_for_tag(tag) == "zh_Hant", tag
    assert best_locale(["zh-TW", "zh-CN"], default="en") == "zh_Hant"


def test_a_site_offering_no_traditional_chinese_gives_a_taiwan_phone_its_next_choice():
    assert best_locale(["zh-TW", "en"], default="zh_Hans", supported=("zh_Hans", "en")) == "en"
    assert best_locale(["zh-TW"], default="zh_Hans", supported=("zh_Hans", "en")) == "zh_Hans"


def test_traditional_text_missing_falls_back_to_simplified_not_english():
    texts = {"zh_Hans": "您满意吗？", "en": "Are you satisfied?"}
    assert pick_text(texts, "zh_Hant") == "您满意吗？"
    assert pick_text({**texts, "zh_Hant": "您滿意嗎？"}, "zh_Hant") == "您滿意嗎？"
    assert pick_text({"zh_Hans": "", "en": "Are you satisfied?"}, "zh_Hant") == "Are you satisfied?"
    # an English or Simplified reader never gets the Traditional text while their own is there
    assert pick_text({**texts, "zh_Hant": "您滿意嗎？"}, "zh_Hans") == "您满意吗？"
    assert pick_text({"zh_Hant": "您滿意嗎？", "en": ""}, "en") == "您滿意嗎？"


def test_first_supported_language_wins_else_the_default():
    assert best_locale(["fr-FR", "en-GB", "zh-CN"], default="zh_Hans") == "en"
    assert best_locale(["fr-FR"], default="zh_Hans") == "zh_Hans"


def test_missing_translation_falls_back_to_another_language():
    assert pick_text({"zh_Hans": "你好", "en": ""}, "en") == "你好"
    assert pick_text(None, "en") == ""


def test_speeder_is_flagged_against_the_median_pace_once_there_is_enough_history():
    earlier = [12.0] * 30  # seconds per tap: 60 s for a 5-tap path
    assert TOO_FAST in quality_flags(5, 5, [4, 5, 3], earlier, repeat_device=False)
    assert quality_flags(40, 5, [4, 5, 3], earlier, repeat_device=False) == []


def test_without_history_a_floor_per_tap_applies():
    assert TOO_FAST in quality_flags(3, 6, [], [], repeat_device=False)
    assert quality_flags(20, 6, [], [], repeat_device=False) == []


def test_three_equal_ratings_are_a_happy_customer_not_straight_lining():
    assert STRAIGHT_LINING not in quality_flags(60, 5, [5, 5, 5], [], repeat_device=False)
    assert STRAIGHT_LINING in quality_flags(60, 5, [3, 3, 3, 3, 3], [], repeat_device=False)


def test_repeat_device_is_a_flag():
    assert quality_flags(60, 5, [4], [], repeat_device=True) == [REPEAT_DEVICE]
