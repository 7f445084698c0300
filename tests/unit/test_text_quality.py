"""What customers write counts (issue 10, point 3): the labelled sets tests/data/comments.tsv (tuned
on), tests/data/comments_dev.tsv (the development part: written before the rules were run on it, its
misses read while tuning) and tests/data/comments_heldout.tsv (held out: written by someone who saw
neither the rules nor their results, and not read while tuning; see bench/text_quality.py).

Targets on each part: complaint recall ≥ 90 %, precision ≥ 90 %, category accuracy ≥ 85 %.
``bench/text_quality.py`` prints the figures and the tuned part's misses. A failing held-out test
names no text (only a figure), so that reading a test run does not spend the held-out part.
"""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from app.core import routing

_BENCH = Path(__file__).resolve().parents[2] / "bench" / "text_quality.py"
_spec = importlib.util.spec_from_file_location("text_quality", _BENCH)
text_quality = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("text_quality", text_quality)
_spec.loader.exec_module(text_quality)

COMMENTS = text_quality.load()


def test_the_set_is_large_enough_and_has_a_held_out_part():
    chinese = [c for c in COMMENTS if c.language == "zh"]
    english = [c for c in COMMENTS if c.language == "en"]
    assert len(chinese) >= 150 and len(english) >= 40
    held_out = [c for c in COMMENTS if c.split == "heldout"]
    assert len(held_out) >= 100 and len(held_out) / sum(1 for c in COMMENTS if c.split != "dev") >= 0.2
    assert sum(1 for c in held_out if c.language == "en") >= 20
    assert {c.category for c in COMMENTS if c.category} <= set(routing.CATEGORIES)
    distinct_texts = len({c.text for c in COMMENTS})  # a count: a failure must not print held-out texts
    assert distinct_texts == len(COMMENTS)
    development = [c for c in COMMENTS if c.split == "dev"]
    chinese_share = sum(1 for c in development if c.language == "zh") / len(development)
    assert len(development) >= 200 and 0.7 <= chinese_share <= 0.8


def test_the_tuned_part_meets_the_targets():
    result = text_quality.measure(COMMENTS, "tune")
    assert result.recall >= 0.90, result.misses
    assert result.precision >= 0.90, result.false_alarms
    assert result.category_accuracy >= 0.85, result.wrong_categories


def test_the_development_part_meets_the_targets():
    """Not held out (its misses were read while the constructions and vocabularies were written), but
    written before any rule was run on it: a rule grown for one part that does not read the other shows here."""
    result = text_quality.measure(COMMENTS, "dev")
    assert result.recall >= 0.90, result.misses
    assert result.precision >= 0.90, result.false_alarms
    assert result.category_accuracy >= 0.85, result.wrong_categories


# Measured 2026-12-04 on the held-out part (130 comments, 91 complaints) with keywords, negation and
# complaint constructions, the general category vocabularies and the shipped sentiment lexicons and
# model: recall 89.0 %, precision 95.3 %, category accuracy 89.0 % (before these changes, 2026-12-03:
# 76.9 %, 89.7 %, 74.7 %). The held-out part was measured three times for them, figures only: after the
# first round of changes 84.6 / 93.9 / 82.4 % (keywords alone 69.2 / 98.4 / 82.4 %), after the second
# these figures. Recall is below its target (81 of 91; 82 would meet it): not met, said so.
def test_precision_meets_the_target_on_the_held_out_part():
    precision = text_quality.measure(COMMENTS, "heldout").precision
    assert precision >= 0.90


@pytest.mark.xfail(strict=True, reason="measured 89.0 % on the held-out part")
def test_recall_meets_the_target_on_the_held_out_part():
    recall = text_quality.measure(COMMENTS, "heldout").recall
    assert recall >= 0.90


def test_category_accuracy_meets_the_target_on_the_held_out_part():
    category_accuracy = text_quality.measure(COMMENTS, "heldout").category_accuracy
    assert category_accuracy >= 0.85


def test_the_held_out_part_is_better_read_than_by_keywords_alone():
    """The lexicons earn their place on text nobody tuned on (recall 69.2 % by keywords and constructions
    alone → 84.6 % with the lexicons after the first round of changes, 89.0 % after the second; 2026-12-04)."""
    keywords_only = replace(routing.DEFAULT_SETTINGS, sentiment_lexicon=False)
    held_out = [c for c in COMMENTS if c.split == "heldout" and c.complaint]
    found = sum(1 for c in held_out if routing.is_negative(text_quality._response(c.text)))
    found_by_keywords = sum(1 for c in held_out if routing.is_negative(text_quality._response(c.text), keywords_only))
    assert found >= found_by_keywords + 0.15 * len(held_out)


@pytest.mark.parametrize("text", [
    "价格太贵了", "空调太冷了", "排队排了一个小时", "洗手间没有纸", "汤里有头发", "餐具没洗干净", "上错菜",
    "外卖洒了", "米饭夹生", "死鱼冒充活鱼", "不是很满意", "味道没有以前好了",
])
def test_the_issues_complaints_are_complaints(text):
    assert text_quality.detects(text)


@pytest.mark.parametrize("text", ["没有让人失望", "不算慢", "不难吃", "没有什么不满意的", "没有想象中那么贵"])
def test_the_issues_negated_complaints_are_not(text):
    assert not text_quality.detects(text)


@pytest.mark.parametrize("text, category", [
    ("价格太贵了", "product"), ("空调太冷了", "environment"), ("排队排了一个小时", "service"),
    ("洗手间没有纸", "environment"), ("汤里有头发", "product"), ("餐具没洗干净", "environment"),
    ("上错菜", "service"), ("外卖洒了", "service"), ("米饭夹生", "product"), ("死鱼冒充活鱼", "product"),
    ("服务员很热情，可惜菜凉了", "product"),  # the clause that holds the complaint decides
])
def test_the_issues_complaints_get_a_category(text, category):
    assert text_quality.category_of(text) == category


def test_a_short_wait_is_no_complaint_but_a_long_one_is():
    assert not text_quality.detects("等了十分钟就上菜了")
    assert text_quality.detects("等了二十分钟")
    assert text_quality.detects("We waited 45 minutes for a table")


@pytest.mark.parametrize("text", [
    "位置太偏了", "汤咸得要命", "包裹寄出五天了还没到", "少送了一瓶水", "付完钱才知道要收服务费",
    "改期也没人提前通知我们", "实物和描述的完全不一样", "质量大不如从前", "没有广告里说的那么好用",
    "The parcel never arrived.", "The lift wouldn't work.", "It took 50 minutes to get a table.",
])
def test_complaint_constructions_are_complaints(text):
    assert text_quality.detects(text)


@pytest.mark.parametrize("text", [
    "太感谢了", "好吃得不行", "笑死了，老板太有才了", "跟别家不一样，很有特色", "一只蚊子都没有",
    "虽然排了一会儿队，但是很值得", "没想到这么好吃", "房间很舒服，一觉睡到自然醒",
])
def test_praise_in_the_same_shapes_is_no_complaint(text):
    assert not text_quality.detects(text)


@pytest.mark.parametrize("text, category", [
    ("菜上得特别慢", "service"),       # the complaint is the serving; the dish is only its topic
    ("饮料到最后都没上", "service"),
    ("鱼是臭的", "product"),           # 臭 is a word of the room too: the topic decides
    ("物流信息三天没更新", "communication"),
])
def test_a_tie_goes_to_the_service_or_communication_word_the_complaint_is_made_of(text, category):
    assert text_quality.category_of(text) == category
