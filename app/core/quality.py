"""Data-quality flags (flag, never delete). Flagged responses are kept and left out of scores."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from statistics import median

TOO_FAST = "too_fast"
STRAIGHT_LINING = "straight_lining"
REPEAT_DEVICE = "repeat_device"

#: A response faster than this share of the version's median time is a speeder.
SPEEDER_FRACTION = 0.33
#: Below this many earlier responses the median is not trusted; a floor per answer is used.
MIN_SAMPLES_FOR_MEDIAN = 20
SECONDS_PER_ANSWER_FLOOR = 1.5
#: The brief's rule for long surveys: under two minutes is too fast.
LONG_SURVEY_QUESTIONS = 20
LONG_SURVEY_MIN_SECONDS = 120
#: Straight-lining needs enough rated questions to mean anything: three 5s is a happy customer.
STRAIGHT_LINE_MIN_RATINGS = 5


def is_too_fast(duration_seconds: float, answered: int, earlier_durations: Sequence[float]) -> bool:
    if answered >= LONG_SURVEY_QUESTIONS and duration_seconds < LONG_SURVEY_MIN_SECONDS:
        return True
    if len(earlier_durations) >= MIN_SAMPLES_FOR_MEDIAN:
        return duration_seconds < SPEEDER_FRACTION * median(earlier_durations)
    return duration_seconds < SECONDS_PER_ANSWER_FLOOR * answered


def is_straight_lining(ratings: Sequence[int]) -> bool:
    """Every rating question answered with the same option."""
    return len(ratings) >= STRAIGHT_LINE_MIN_RATINGS and len(set(ratings)) == 1


def quality_flags(
    duration_seconds: float,
    answered: int,
    ratings: Sequence[int],
    earlier_durations: Sequence[float],
    repeat_device: bool,
) -> list[str]:
    flags = []
    if is_too_fast(duration_seconds, answered, earlier_durations):
        flags.append(TOO_FAST)
    if is_straight_lining(ratings):
        flags.append(STRAIGHT_LINING)
    if repeat_device:
        flags.append(REPEAT_DEVICE)
    return flags


#: Two submissions from one device at one branch within this window: the later is flagged.
REPEAT_DEVICE_WINDOW = timedelta(hours=1)
