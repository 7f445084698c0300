"""Data-quality rules with their thresholds: speeders, long surveys, straight-lining, repeats, gibberish."""
from datetime import timedelta

import pytest

from app.core.quality import (
    DEFAULT_THRESHOLDS,
    GIBBERISH,
    REPEAT_DEVICE,
    STRAIGHT_LINING,
    TOO_FAST,
    QualityThresholds,
    is_gibberish,
    is_too_fast,
    quality_flags,
)

REAL_COMMENTS = [
    # Short real answers, and "nothing to add".
    "ok", "OK!", "no", "No.", "好", "很好", "无", "没有", "还行", "一般般", "-", ".", "/", "n/a", "👍", "👍👍", "😊",
    "10/10", "5", "A+", "thx", "lol", "WTF", "nope",
    # Laughs and emphasis, while short.
    "哈哈哈哈哈", "好好好", "hahaha", "hahahahaha", "Soooo good!!!", "yesss", "nooooo", "hmmm", "Nice!!!!!!",
    # Real comments.
    "排队时间太长了，等了二十分钟", "服务员态度很好，环境干净", "产品质量不错，但是价格有点贵", "洗手间不干净",
    "工作人员很热情，下次还来", "等了很久才上菜，希望改进", "价格合理", "服务态度好 👍",
    "Great coffee, friendly staff", "The queue was far too long", "Music was too loud", "Lovely tea", "Cold food",
    "KTV room was fine", "wifi slow", "pls fix the AC", "Staff were rude and slow", "great service, will come back",
    "I waited 20 min for my order", "The strengths of the staff are obvious", "Café au lait was cold",
    "Mr Smith helped me", "The tree outside blocks the sign", "Twelfths", "angsts",
    # Pinyin typed without the input method, other languages, numbers and links.
    "xiexie", "henhao", "bucuo, haochi", "Tres bien", "Sehr gut, danke", "Очень хорошо", "とても良い", "맛있어요",
    "13800138000", "see www.example.com/menu", "mail me: li@example.com",
]

MASHING = [
    "asdf", "asdfgh", "qwerty", "qwertyuiop", "ASDFGHJKL", "hjkl", "poiuy", "lkjhg", "asd fgh jkl", "qwe rty",
    "aaaaaaa", "zzzzzz", "sdfghjkl", "bcdfg", "xcvbnm", "dfgdfgdfg",
    "jkjkjkjk", "asdfasdfasdf", "asdasdasd", "qweqweqwe", "sdfsdf", "asdff",
    "ajsdhfkjh", "kjsdhfkjsdhf", "fjdksla", "alskdjfalskdj",
    "???", "。。。。", "....", "!!!!!!", "😀😀😀",
    "哈哈哈哈哈哈哈哈哈哈哈哈", "啊啊啊啊啊啊啊啊啊啊啊啊啊", "aaaaaaaaaaaa", "lol lol lol lol lol lol", "1111111111111",
]


@pytest.mark.parametrize("comment", REAL_COMMENTS)
def test_real_comments_in_chinese_and_english_are_not_gibberish(comment):
    assert not is_gibberish(comment)


@pytest.mark.parametrize("comment", MASHING)
def test_keyboard_mashing_and_filler_are_gibberish(comment):
    assert is_gibberish(comment)


def test_empty_or_missing_text_is_not_gibberish():
    assert not is_gibberish("")
    assert not is_gibberish("   ")
    assert not is_gibberish(None)


def test_a_mashed_word_inside_a_real_sentence_does_not_flag_it():
    assert not is_gibberish("Food was great asdf")
    assert not is_gibberish("服务很好 asdfgh")
    assert is_gibberish("asdfgh jkl ok")


def test_any_gibberish_text_answer_flags_the_response():
    assert GIBBERISH in quality_flags(60, 5, [4, 5], [], False, texts=["Great tea", "asdfghjkl"])
    assert GIBBERISH not in quality_flags(60, 5, [4, 5], [], False, texts=["Great tea", "很好"])
    assert GIBBERISH not in quality_flags(60, 5, [4, 5], [], False)


def test_speeder_fraction_of_the_median_is_configurable():
    earlier = [3.0] * 30  # a brisk crowd: 3 s a tap
    assert not is_too_fast(5.5, 5, earlier)  # 1.1 s a tap: 37 % of the median, default fraction 33 %
    assert is_too_fast(5.5, 5, earlier, QualityThresholds(speeder_fraction=0.5))
    assert is_too_fast(4.5, 5, earlier)


def test_a_human_pace_is_never_too_fast_whatever_the_crowd_and_the_fraction():
    assert not is_too_fast(6, 5, [20.0] * 30, QualityThresholds(speeder_fraction=0.9))  # 1.2 s a tap
    assert is_too_fast(5.5, 5, [20.0] * 30)


def test_a_long_survey_under_two_minutes_is_too_fast_whatever_the_median():
    quick_crowd = [6.0] * 30
    assert is_too_fast(100, 10, quick_crowd, asked=10)
    assert not is_too_fast(125, 10, quick_crowd, asked=10)
    assert not is_too_fast(100, 9, quick_crowd, asked=9)


def test_what_counts_as_a_long_survey_is_configurable_and_counts_the_questions_asked():
    quick_crowd = [6.0] * 30
    short = QualityThresholds(long_survey_questions=6)
    assert is_too_fast(100, 6, quick_crowd, short, asked=6)
    # Skipped optional questions do not make a long survey short: the questions asked count.
    assert is_too_fast(100, 4, quick_crowd, short, asked=7)
    assert not is_too_fast(100, 4, quick_crowd, short, asked=5)
    assert TOO_FAST in quality_flags(100, 4, [], quick_crowd, False, asked=7, thresholds=short)


def test_thresholds_come_from_the_settings_with_defaults():
    configured = QualityThresholds.from_config(
        {"LOOPDESK_SPEEDER_FRACTION": 0.5, "LOOPDESK_LONG_SURVEY_QUESTIONS": 12, "LOOPDESK_REPEAT_DEVICE_HOURS": 6}
    )
    assert configured.speeder_fraction == 0.5
    assert configured.long_survey_questions == 12
    assert configured.repeat_device_window == timedelta(hours=6)
    assert configured.long_survey_min_seconds == 120
    assert QualityThresholds.from_config({"LOOPDESK_STRAIGHT_LINE_MIN_RATINGS": 4}).straight_line_min_ratings == 4
    assert QualityThresholds.from_config({}) == DEFAULT_THRESHOLDS
    assert DEFAULT_THRESHOLDS.speeder_fraction == 0.33
    assert DEFAULT_THRESHOLDS.repeat_device_window == timedelta(hours=1)


def test_straight_lining_needs_five_equal_ratings():
    assert STRAIGHT_LINING in quality_flags(60, 6, [1, 1, 1, 1, 1], [], False)
    assert STRAIGHT_LINING not in quality_flags(60, 6, [5, 5, 5, 5], [], False)
    assert STRAIGHT_LINING not in quality_flags(60, 6, [5, 5, 5, 5, 4], [], False)


def test_the_straight_lining_minimum_is_a_setting_for_chains_with_longer_surveys():
    three = QualityThresholds(straight_line_min_ratings=3)
    assert STRAIGHT_LINING in quality_flags(60, 6, [2, 2, 2], [], False, thresholds=three)
    assert STRAIGHT_LINING not in quality_flags(60, 6, [2, 2], [], False, thresholds=three)


def test_speed_is_judged_by_the_path_taken_a_short_happy_path_at_a_human_pace_is_not_too_fast():
    from app.core.quality import effort

    happy = effort([("csat", 0)] * 3 + [("nps", 0)])  # 4 taps
    unhappy = effort([("csat", 0)] * 3 + [("multiple", 0), ("nps", 0), ("text", 60)])  # a long comment
    assert happy == 4 and unhappy == 1 * 3 + 1.5 + 1 + 1 + 6
    # A crowd at 2.5 s a tap on either path; the happy customer's 10 s is as human as the unhappy one's 40 s.
    crowd = [2.5] * 30
    assert not is_too_fast(10, happy, crowd) and not is_too_fast(40, unhappy, crowd)
    assert is_too_fast(2, happy, crowd)  # half a second a tap


def test_every_rule_can_flag_one_response_together():
    flags = quality_flags(5, 10, [3] * 6, [80.0] * 30, True, texts=["qwerty"])
    assert flags == [TOO_FAST, STRAIGHT_LINING, REPEAT_DEVICE, GIBBERISH]
