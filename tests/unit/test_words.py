"""Words and phrases of open answers: Chinese segmentation, English words, stop words, counts per answer."""
from __future__ import annotations

import logging

from app.core import words


def test_jieba_loads_its_dictionary_quietly(caplog):
    """First in this file: the first Chinese answer of the process loads the dictionary."""
    with caplog.at_level(logging.DEBUG, logger="jieba"):
        words.words_of("环境干净")
    assert not [r for r in caplog.records if r.levelno < logging.WARNING and r.name == "jieba"]


def test_chinese_is_cut_into_words():
    assert words.words_of("服务员态度很差") == ["服务员", "态度", "很差"]


def test_chinese_stop_words_and_punctuation_are_dropped():
    assert words.words_of("排队时间太长了，等了二十分钟！") == ["排队", "时间", "太长", "等", "二十分钟"]
    assert "的" not in words.words_of("我们的服务员的态度")
    assert words.words_of("，。！？……") == []


def test_english_words_are_lower_case_without_stop_words_and_plain_plurals_fold():
    assert words.words_of("The Queues were SO long, and the toilets dirty") == ["queue", "long", "toilet", "dirty"]
    assert words.words_of("Dishes and glasses, always") == ["dish", "glass", "always"]
    assert words.words_of("It's a bit of a mess, isn't it?") == ["mess"]


def test_a_negation_stays_with_the_word_it_negates():
    assert words.words_of("洗手间不干净") == ["洗手间", "不干净"]
    assert words.words_of("The tables were not very clean") == ["table", "not very clean"]
    assert "干净" not in words.words_of("不干净")
    assert words.words_of("No.") == []


def test_negated_phrases_stay_whole():
    assert words.words_of("上菜不算慢") == ["上菜", "不算慢"]
    assert words.words_of("菜不难吃，就是普通") == ["菜", "不难吃", "普通"]
    for text in ("不算慢", "不难吃", "没那么难吃", "不算太慢"):
        assert not {"慢", "难吃", "太慢", "不难"} & set(words.words_of(text)), text


def test_phrases_are_neighbouring_words_of_one_clause():
    assert words.phrases_of("服务员态度很差") == ["服务员态度", "态度很差"]
    assert words.phrases_of("Great coffee, friendly staff") == ["great coffee", "friendly staff"]
    # a stop word or a punctuation mark between two words breaks the phrase
    assert words.phrases_of("coffee and cake") == []
    assert words.phrases_of("coffee. cake") == []


def test_an_answer_mixing_both_languages_counts_both():
    assert words.words_of("WiFi太慢了, the coffee was cold") == ["wifi", "太慢", "coffee", "cold"]


def test_a_word_counts_once_per_answer():
    counted = words.frequencies(["queue queue queue", "long queue", "服务员态度很差", "服务员态度很好"])
    assert counted.answers == 4
    assert counted.words["queue"] == 2
    assert counted.words["服务员"] == 2
    assert counted.phrases["服务员态度"] == 2
    assert ("queue", 2) in counted.top_words(10)


def test_top_lists_rank_by_count_then_alphabet_and_phrases_need_two_answers():
    counted = words.frequencies(["cold tea", "cold coffee", "cold coffee", "tea"])
    assert counted.top_words(3) == [("cold", 3), ("coffee", 2), ("tea", 2)]
    assert counted.top_phrases(10) == [("cold coffee", 2)]


def test_contains_matches_words_and_phrases_as_counted():
    assert words.contains("The QUEUES were long", "queue")
    assert words.contains("服务员态度很差", "态度很差")
    assert not words.contains("服务员态度很差", "务员")
    assert not words.contains("The queue was long", "the")
