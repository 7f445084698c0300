"""Survey scoring: CSAT, NPS and the weighted satisfaction index.

Pure functions over plain numbers so the same rules serve the dashboard,
the PDF reports and the background jobs. Nothing here rounds: rounding is
a display decision. "No data" is reported as ``None`` rather than ``0``,
because a score of 0 is a real (and alarming) result.
"""
from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from types import MappingProxyType

__all__ = [
    "DEFAULT_WEIGHTS",
    "WEAK_DIMENSION_THRESHOLD",
    "NpsCategory",
    "csat_score",
    "mean_rating",
    "nps_category",
    "nps_score",
    "dimension_means",
    "weighted_index",
    "index_percent",
    "weak_dimensions",
]

CSAT_MIN, CSAT_MAX = 1, 5
NPS_MIN, NPS_MAX = 0, 10
_CSAT_SATISFIED_FROM = 4
_NPS_PROMOTER_FROM = 9
_NPS_PASSIVE_FROM = 7

# Read-only so no caller can change the defaults for everyone else.
DEFAULT_WEIGHTS: Mapping[str, int] = MappingProxyType(
    {"product": 40, "service": 35, "environment": 25}
)
WEAK_DIMENSION_THRESHOLD = 3.5


class NpsCategory(enum.StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


def _check_int(value: object, low: int, high: int, what: str) -> int:
    # bool is a subclass of int; True would silently count as a rating of 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"{what} must be an integer from {low} to {high}, "
            f"got {value!r} ({type(value).__name__})"
        )
    if not low <= value <= high:
        raise ValueError(f"{what} must be from {low} to {high}, got {value}")
    return value


def _check_real(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"{what} must be a number, got {value!r} ({type(value).__name__})"
        )
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value


def _check_mean(name: str, value: object) -> float:
    mean = _check_real(value, f"mean of dimension {name!r}")
    if not CSAT_MIN <= mean <= CSAT_MAX:
        raise ValueError(
            f"mean of dimension {name!r} must be from {CSAT_MIN} to {CSAT_MAX}, "
            f"got {mean}"
        )
    return mean


def _csat_ratings(ratings: Iterable[int]) -> list[int]:
    # Materialise once: callers may pass generators, and we need len() too.
    return [_check_int(r, CSAT_MIN, CSAT_MAX, "CSAT rating") for r in ratings]


def csat_score(ratings: Iterable[int]) -> float | None:
    """Percentage (0–100) of ratings that are 4 or 5; None without ratings."""
    checked = _csat_ratings(ratings)
    if not checked:
        return None
    satisfied = sum(1 for r in checked if r >= _CSAT_SATISFIED_FROM)
    return 100 * satisfied / len(checked)


def mean_rating(ratings: Iterable[int]) -> float | None:
    """Mean of 1–5 ratings; None without ratings."""
    checked = _csat_ratings(ratings)
    if not checked:
        return None
    # Integer sum is exact, so the one division keeps the result within 1..5.
    return sum(checked) / len(checked)


def nps_category(score: int) -> NpsCategory:
    """Promoter 9–10, passive 7–8, detractor 0–6."""
    _check_int(score, NPS_MIN, NPS_MAX, "NPS score")
    if score >= _NPS_PROMOTER_FROM:
        return NpsCategory.PROMOTER
    if score >= _NPS_PASSIVE_FROM:
        return NpsCategory.PASSIVE
    return NpsCategory.DETRACTOR


def nps_score(scores: Iterable[int]) -> float | None:
    """% promoters − % detractors (−100..100); None without answers.

    Passives count in the total but on neither side, so they pull the
    score towards 0.
    """
    categories = [nps_category(s) for s in scores]
    if not categories:
        return None
    promoters = categories.count(NpsCategory.PROMOTER)
    detractors = categories.count(NpsCategory.DETRACTOR)
    return 100 * (promoters - detractors) / len(categories)


def dimension_means(
    ratings_by_dimension: Mapping[str, Iterable[int]],
) -> dict[str, float]:
    """Mean 1–5 rating per dimension.

    Dimensions without ratings are omitted (not reported as 0) so that
    weighted_index can leave them out and renormalise the other weights.
    """
    means: dict[str, float] = {}
    for name, ratings in ratings_by_dimension.items():
        mean = mean_rating(ratings)
        if mean is not None:
            means[name] = mean
    return means


def weighted_index(
    means: Mapping[str, float],
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> float | None:
    """Weighted satisfaction index on the 1–5 scale.

    Σ(weight × mean) / Σ(weights of dimensions present in ``means``): a
    dimension without data drops out and the other weights are
    renormalised, so one unanswered section does not drag the index down.
    Weights are relative (percent by convention; they need not sum to 100).
    Returns None when no dimension with a positive weight has data.

    Every dimension in ``means`` needs a weight; a missing one is a
    configuration error, not something to guess at.
    """
    for name, weight in weights.items():
        if _check_real(weight, f"weight of dimension {name!r}") < 0:
            raise ValueError(
                f"weight of dimension {name!r} must not be negative, got {weight}"
            )
    checked = {name: _check_mean(name, mean) for name, mean in means.items()}
    missing = sorted(set(checked) - set(weights))
    if missing:
        raise ValueError(f"no weight given for dimension(s): {', '.join(missing)}")

    used = {name: mean for name, mean in checked.items() if weights[name] > 0}
    if not used:
        return None
    # Scale weights to at most 1 first so huge weights cannot overflow.
    largest = max(weights[name] for name in used)
    relative = {name: weights[name] / largest for name in used}
    total = math.fsum(relative.values())
    index = math.fsum(relative[name] * mean for name, mean in used.items()) / total
    # A weighted mean lies between its smallest and largest term; clamping
    # only removes floating-point overshoot (e.g. equal means coming back
    # as 3.9999999999999996 instead of 4.0).
    return min(max(index, min(used.values())), max(used.values()))


def index_percent(index: float | None) -> float | None:
    """Map the 1–5 index onto 0–100 (1 → 0, 5 → 100); None stays None."""
    if index is None:
        return None
    value = _check_real(index, "index")
    if not CSAT_MIN <= value <= CSAT_MAX:
        raise ValueError(f"index must be from {CSAT_MIN} to {CSAT_MAX}, got {value}")
    return (value - CSAT_MIN) / (CSAT_MAX - CSAT_MIN) * 100


def weak_dimensions(
    means: Mapping[str, float],
    threshold: float = WEAK_DIMENSION_THRESHOLD,
) -> list[str]:
    """Dimensions whose mean is below ``threshold``, weakest first.

    Weakest first because that is the order in which they need attention;
    ties keep the order of ``means``.
    """
    _check_real(threshold, "threshold")
    checked = {name: _check_mean(name, mean) for name, mean in means.items()}
    weak = [name for name, mean in checked.items() if mean < threshold]
    return sorted(weak, key=checked.__getitem__)
