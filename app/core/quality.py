"""Data-quality flags (flag, never delete). Flagged responses are kept and left out of scores.

The thresholds have defaults here and are set per installation in app.config
(``LOOPDESK_SPEEDER_FRACTION``, ``LOOPDESK_LONG_SURVEY_QUESTIONS``, ``LOOPDESK_REPEAT_DEVICE_HOURS``,
``LOOPDESK_STRAIGHT_LINE_MIN_RATINGS``); ``QualityThresholds.from_config`` reads them.

Speed is judged against the path the customer took, not against the version's median time: a happy
customer's path is the shortest (no follow-up question, no comment), so comparing everyone's time with one
median flagged the happiest customers and biased the scores down. A response's *effort* is what it asked of
the customer, in taps: one per rating or single choice shown, a little more for a multiple choice, and for
what was typed one tap per ``CHARS_PER_TAP`` characters. Its *pace* is seconds per tap; a speeder's pace is
below ``speeder_fraction`` of the median pace of the version's earlier responses (the guides' "a fraction of
the median time"), and below ``SECONDS_PER_TAP_FLOOR`` while there are too few of them to trust a median; a pace of
``SECONDS_PER_TAP_HUMAN`` or more is never too fast.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from statistics import median
from typing import Any

TOO_FAST = "too_fast"
STRAIGHT_LINING = "straight_lining"
REPEAT_DEVICE = "repeat_device"
GIBBERISH = "gibberish"
BURST = "burst"
FLAGS = (TOO_FAST, STRAIGHT_LINING, REPEAT_DEVICE, GIBBERISH, BURST)

#: A response faster than this share of the version's median time is a speeder.
SPEEDER_FRACTION = 0.33
#: Below this many earlier responses the median is not trusted; a floor per tap is used.
MIN_SAMPLES_FOR_MEDIAN = 20
#: Nobody reads a question and taps an answer faster than this (people at a human pace take 1.5–4 s).
SECONDS_PER_TAP_FLOOR = 0.75
#: A pace any attentive person reaches is never "too fast", however slow the version's other customers are:
#: the median rule alone flagged brisk customers of a branch whose crowd takes its time.
SECONDS_PER_TAP_HUMAN = 1.2
#: Effort of each kind of question shown, in taps; typed text adds one tap per this many characters.
TAPS = {"csat": 1.0, "nps": 1.0, "single": 1.0, "multiple": 1.5, "text": 1.0, "contact": 0.0}
CHARS_PER_TAP = 10
#: The brief's rule for long surveys: under two minutes is too fast.
LONG_SURVEY_QUESTIONS = 10
LONG_SURVEY_MIN_SECONDS = 120
#: Straight-lining needs enough rated questions to mean anything. On a short survey (the default has four
#: ratings) the same answer everywhere is what a happy or an angry customer honestly gives: flagging it would
#: drop them from the scores, so the default stays at 5 and a chain with longer surveys may lower or raise it.
STRAIGHT_LINE_MIN_RATINGS = 5
#: Two submissions from one device at one branch within this window: the later is flagged.
REPEAT_DEVICE_WINDOW = timedelta(hours=1)
#: Ballot stuffing (fresh cookies defeat the repeat-device rule): this many submissions from one network address,
#: or through one QR code, at one branch within the window are a burst, all of them flagged. A busy branch whose
#: customers share its Wi-Fi, or a QR code at a busy door, may need higher numbers (kiosks are never judged).
BURST_WINDOW = timedelta(minutes=10)
BURST_SAME_ADDRESS = 3
BURST_SAME_CODE = 30


@dataclass(frozen=True)
class QualityThresholds:
    speeder_fraction: float = SPEEDER_FRACTION
    #: A survey that asked at least this many questions is "long": the two-minute rule applies.
    long_survey_questions: int = LONG_SURVEY_QUESTIONS
    long_survey_min_seconds: float = LONG_SURVEY_MIN_SECONDS
    repeat_device_window: timedelta = REPEAT_DEVICE_WINDOW
    straight_line_min_ratings: int = STRAIGHT_LINE_MIN_RATINGS
    burst_window: timedelta = BURST_WINDOW
    burst_same_address: int = BURST_SAME_ADDRESS
    burst_same_code: int = BURST_SAME_CODE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> QualityThresholds:
        """From the app's settings; a missing setting keeps the default."""
        return cls(
            speeder_fraction=float(config.get("LOOPDESK_SPEEDER_FRACTION", SPEEDER_FRACTION)),
            long_survey_questions=int(config.get("LOOPDESK_LONG_SURVEY_QUESTIONS", LONG_SURVEY_QUESTIONS)),
            repeat_device_window=timedelta(
                hours=float(config.get("LOOPDESK_REPEAT_DEVICE_HOURS", REPEAT_DEVICE_WINDOW / timedelta(hours=1)))
            ),
            straight_line_min_ratings=int(config.get("LOOPDESK_STRAIGHT_LINE_MIN_RATINGS", STRAIGHT_LINE_MIN_RATINGS)),
            burst_window=timedelta(
                minutes=float(config.get("LOOPDESK_SUBMISSION_BURST_MINUTES", BURST_WINDOW / timedelta(minutes=1)))
            ),
            burst_same_address=int(config.get("LOOPDESK_SUBMISSION_BURST_ADDRESS", BURST_SAME_ADDRESS)),
            burst_same_code=int(config.get("LOOPDESK_SUBMISSION_BURST_CODE", BURST_SAME_CODE)),
        )


DEFAULT_THRESHOLDS = QualityThresholds()


def effort(shown: Sequence[tuple[str, int]]) -> float:
    """What a path asked of the customer, in taps: each shown question's (kind, characters typed into it)."""
    return sum(TAPS.get(kind, 1.0) + typed / CHARS_PER_TAP for kind, typed in shown)


def pace(duration_seconds: float, effort_taps: float) -> float | None:
    """Seconds per tap; None for a response that asked nothing."""
    return duration_seconds / effort_taps if effort_taps > 0 else None


def is_too_fast(
    duration_seconds: float,
    effort_taps: float,
    earlier_paces: Sequence[float],
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
    asked: int = 0,
) -> bool:
    """Faster than the path allows (see the module's docstring); for a long survey (``asked`` questions), under
    two minutes."""
    if asked >= thresholds.long_survey_questions and duration_seconds < thresholds.long_survey_min_seconds:
        return True
    own = pace(duration_seconds, effort_taps)
    if own is None:
        return False
    if len(earlier_paces) >= MIN_SAMPLES_FOR_MEDIAN:
        return own < min(thresholds.speeder_fraction * median(earlier_paces), SECONDS_PER_TAP_HUMAN)
    return own < SECONDS_PER_TAP_FLOOR


def source_key(address: str | None, secret: str | bytes) -> str | None:
    """A network address as the burst rule compares it: keyed and truncated, so the database never holds it."""
    if not address:
        return None
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:16]


def is_burst(same_address: int, same_code: int, thresholds: QualityThresholds = DEFAULT_THRESHOLDS) -> bool:
    """Submissions (this one included) from one address / through one code at one branch within the window."""
    return same_address >= thresholds.burst_same_address or same_code >= thresholds.burst_same_code


def is_straight_lining(ratings: Sequence[int], min_ratings: int = STRAIGHT_LINE_MIN_RATINGS) -> bool:
    """Every rating question answered with the same option (with at least ``min_ratings`` of them)."""
    return len(ratings) >= min_ratings and len(set(ratings)) == 1


# -- gibberish ----------------------------------------------------------------------------------
#
# Decisions, each with a test in tests/unit/test_quality_flags.py:
# - Short real answers are never flagged: "ok", "no", "好", "很好", "无", "-", "👍".
# - Chinese (and Japanese, Korean) text is meaningful when its characters vary. A repeated
#   character is a laugh or emphasis ("哈哈哈哈哈", "好好好") and is left alone while short;
#   from LOW_DIVERSITY_LENGTH characters with at most LOW_DIVERSITY_DISTINCT different ones
#   ("哈哈哈哈哈哈哈哈哈哈哈哈", "aaaaaaaaaaaa", "lol lol lol lol lol lol") it is filler, in any script.
# - Only punctuation, symbols or emoji: one or two are "nothing to add" or a reaction ("-", "👍");
#   from MIN_SYMBOLS on ("???", "。。。。", "😀😀😀") it is flagged.
# - Latin text is flagged when at least half of its letters are in mashed words: one letter
#   repeated ("aaaa"), a long word without vowels ("sdfgh"), a run along a keyboard row
#   ("qwerty", "asdfasdf", "jkjkjk"), or a cluster of consonants no language writes ("ajsdkfh").
#   Links and e-mail addresses are left out of the count. Other alphabets are not judged.

LOW_DIVERSITY_LENGTH = 12
LOW_DIVERSITY_DISTINCT = 3
MIN_SYMBOLS = 3
REPEATED_LETTER_LENGTH = 4
NO_VOWEL_LENGTH = 5
KEYBOARD_RUN_LENGTH = 3
KEYBOARD_WORD_LENGTH = 6
KEYBOARD_PAIR_SHARE = 0.7
CONSONANT_CLUSTER = 6

_LINK = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\S+", re.IGNORECASE)
_LATIN_WORD = re.compile(r"[a-z]+")
_CONSONANTS = re.compile(r"[^aeiouy]+")
_VOWELS = frozenset("aeiouy")
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_NEIGHBOURS = frozenset(
    pair for row in _KEYBOARD_ROWS for a, b in zip(row, row[1:]) for pair in (a + b, b + a)
)
#: Han (with extensions and compatibility ideographs), kana, Hangul.
_CJK_RANGES = (
    (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF),
)


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def _squeezed(word: str) -> str:
    """Runs of one letter made one: "sooooo" → "so", "hmmm" → "hm"."""
    return "".join(ch for i, ch in enumerate(word) if i == 0 or word[i - 1] != ch)


def _on_keyboard_row(word: str) -> bool:
    return any(word in row or word in row[::-1] for row in _KEYBOARD_ROWS)


def is_mashed_word(word: str) -> bool:
    """A lower-case Latin word typed by hitting keys, not by spelling."""
    if len(word) >= REPEATED_LETTER_LENGTH and len(set(word)) == 1:
        return True
    squeezed = _squeezed(word)
    if len(squeezed) >= NO_VOWEL_LENGTH and not _VOWELS.intersection(squeezed):
        return True
    if len(word) >= KEYBOARD_RUN_LENGTH and _on_keyboard_row(word):
        return True
    if len(squeezed) > KEYBOARD_RUN_LENGTH and _on_keyboard_row(squeezed):  # a held key: "asdff"; "tree" stays
        return True
    if len(squeezed) >= KEYBOARD_WORD_LENGTH:
        pairs = [squeezed[i : i + 2] for i in range(len(squeezed) - 1)]
        if sum(pair in _KEY_NEIGHBOURS for pair in pairs) >= KEYBOARD_PAIR_SHARE * len(pairs):
            return True
    return any(len(run) >= CONSONANT_CLUSTER for run in _CONSONANTS.findall(squeezed))


def _latin_letters(text: str) -> str:
    """Lower case, accents taken off ("café" → "cafe"), so vowels are vowels."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def is_gibberish(text: str | None) -> bool:
    """Keyboard mashing or filler rather than words. See the decisions above."""
    text = _LINK.sub(" ", unicodedata.normalize("NFKC", text or "")).strip()
    if not text:
        return False
    letters = [ch.lower() for ch in text if ch.isalnum()]
    if not letters:
        return sum(not ch.isspace() for ch in text) >= MIN_SYMBOLS
    if len(letters) >= LOW_DIVERSITY_LENGTH and len(set(letters)) <= LOW_DIVERSITY_DISTINCT:
        return True
    if any(_is_cjk(ch) for ch in letters):
        return False
    words = _LATIN_WORD.findall(_latin_letters(text))
    mashed = sum(len(word) for word in words if is_mashed_word(word))
    return mashed > 0 and 2 * mashed >= sum(len(word) for word in words)


def quality_flags(
    duration_seconds: float,
    effort_taps: float,
    ratings: Sequence[int],
    earlier_paces: Sequence[float],
    repeat_device: bool,
    *,
    texts: Sequence[str] = (),
    asked: int = 0,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
) -> list[str]:
    """The flags of one submitted response: its path's effort in taps, ``asked`` how many questions it showed."""
    flags = []
    if is_too_fast(duration_seconds, effort_taps, earlier_paces, thresholds, asked):
        flags.append(TOO_FAST)
    if is_straight_lining(ratings, thresholds.straight_line_min_ratings):
        flags.append(STRAIGHT_LINING)
    if repeat_device:
        flags.append(REPEAT_DEVICE)
    if any(is_gibberish(text) for text in texts):
        flags.append(GIBBERISH)
    return flags
