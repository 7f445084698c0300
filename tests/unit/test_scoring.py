import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.scoring import (
    DEFAULT_WEIGHTS,
    WEAK_DIMENSION_THRESHOLD,
    NpsCategory,
    csat_score,
    dimension_means,
    index_percent,
    mean_rating,
    nps_category,
    nps_score,
    weak_dimensions,
    weighted_index,
)

csat_ratings = st.integers(min_value=1, max_value=5)
nps_answers = st.integers(min_value=0, max_value=10)
dimension_names = st.text(min_size=1, max_size=8)
means_1_to_5 = st.floats(min_value=1, max_value=5, allow_nan=False)
positive_weights = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False)


# --- CSAT -------------------------------------------------------------------


def test_csat_counts_only_fours_and_fives_as_satisfied():
    assert csat_score([1, 2, 3, 4, 5]) == pytest.approx(40.0)


def test_csat_is_100_when_everyone_is_satisfied():
    assert csat_score([4, 5, 5]) == 100.0


def test_csat_is_0_not_none_when_nobody_is_satisfied():
    assert csat_score([1, 2, 3]) == 0.0


def test_csat_of_no_ratings_is_none():
    assert csat_score([]) is None


def test_csat_accepts_a_generator():
    assert csat_score(r for r in [5, 1]) == 50.0


def test_mean_rating_is_the_arithmetic_mean():
    assert mean_rating([1, 2, 4, 5, 5]) == pytest.approx(3.4)


def test_mean_rating_of_no_ratings_is_none():
    assert mean_rating([]) is None


@pytest.mark.parametrize("bad", [0, 6, -1, True, False, 4.0, "5", None])
def test_csat_rejects_ratings_outside_1_to_5_and_non_integers(bad):
    with pytest.raises(ValueError, match="CSAT rating"):
        csat_score([5, bad])
    with pytest.raises(ValueError, match="CSAT rating"):
        mean_rating([5, bad])


# --- NPS --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (0, NpsCategory.DETRACTOR),
        (6, NpsCategory.DETRACTOR),
        (7, NpsCategory.PASSIVE),
        (8, NpsCategory.PASSIVE),
        (9, NpsCategory.PROMOTER),
        (10, NpsCategory.PROMOTER),
    ],
)
def test_nps_category_boundaries_are_6_7_and_8_9(score, category):
    assert nps_category(score) is category


def test_nps_category_is_a_plain_string_for_templates_and_json():
    assert nps_category(10) == "promoter"


def test_nps_is_promoters_minus_detractors():
    # 3 promoters, 2 passives, 5 detractors out of 10 → 30 % − 50 %.
    scores = [10, 9, 9, 8, 7, 6, 5, 3, 1, 0]
    assert nps_score(scores) == pytest.approx(-20.0)


def test_nps_passives_dilute_the_score_without_counting_on_either_side():
    assert nps_score([10, 7, 8, 7]) == pytest.approx(25.0)


def test_nps_ranges_from_minus_100_to_100():
    assert nps_score([0, 6]) == -100.0
    assert nps_score([9, 10]) == 100.0


def test_nps_of_no_answers_is_none():
    assert nps_score([]) is None


@pytest.mark.parametrize("bad", [-1, 11, True, 9.5, "10"])
def test_nps_rejects_answers_outside_0_to_10_and_non_integers(bad):
    with pytest.raises(ValueError, match="NPS score"):
        nps_category(bad)
    with pytest.raises(ValueError, match="NPS score"):
        nps_score([10, bad])


# --- Dimensions and weighted index -------------------------------------------


def test_dimension_means_omits_dimensions_without_ratings():
    means = dimension_means({"product": [5, 4], "service": [], "environment": [2]})
    assert means == {"product": 4.5, "environment": 2.0}


def test_index_uses_default_weights_40_35_25():
    means = dimension_means(
        {
            "product": [5, 4, 4, 3],  # 4.0
            "service": [3, 4],  # 3.5
            "environment": [2, 3, 5, 2],  # 3.0
        }
    )
    # (40 × 4.0 + 35 × 3.5 + 25 × 3.0) / 100 = (160 + 122.5 + 75) / 100
    assert weighted_index(means) == pytest.approx(3.575)
    assert weighted_index(means, DEFAULT_WEIGHTS) == pytest.approx(3.575)


def test_default_weights_are_40_35_25_and_read_only():
    assert dict(DEFAULT_WEIGHTS) == {"product": 40, "service": 35, "environment": 25}
    with pytest.raises(TypeError):
        DEFAULT_WEIGHTS["product"] = 100  # type: ignore[index]


def test_missing_dimension_renormalises_weights():
    # No environment answers: (40 × 4.0 + 35 × 3.5) / (40 + 35) = 282.5 / 75
    means = {"product": 4.0, "service": 3.5}
    assert weighted_index(means, DEFAULT_WEIGHTS) == pytest.approx(282.5 / 75)


def test_single_dimension_with_data_gives_its_own_mean():
    assert weighted_index({"service": 2.5}) == 2.5


def test_index_of_no_data_is_none():
    assert weighted_index({}) is None
    assert weighted_index(dimension_means({"product": [], "service": []})) is None


def test_zero_weighted_dimension_does_not_count():
    weights = {"product": 50, "service": 50, "environment": 0}
    assert weighted_index(
        {"product": 4.0, "service": 2.0, "environment": 1.0}, weights
    ) == pytest.approx(3.0)
    assert weighted_index({"environment": 1.0}, weights) is None


def test_custom_weights_need_not_sum_to_100():
    assert weighted_index({"a": 5.0, "b": 1.0}, {"a": 3, "b": 1}) == pytest.approx(4.0)


def test_index_rejects_negative_weights():
    with pytest.raises(ValueError, match="negative"):
        weighted_index({"product": 4.0}, {"product": 40, "service": -1})


@pytest.mark.parametrize("bad", [True, math.nan, math.inf, "40", None])
def test_index_rejects_weights_that_are_not_finite_numbers(bad):
    with pytest.raises(ValueError, match="weight"):
        weighted_index({"product": 4.0}, {"product": bad})


def test_index_rejects_a_dimension_without_a_weight():
    with pytest.raises(ValueError, match="no weight"):
        weighted_index({"product": 4.0, "ambience": 3.0})


@pytest.mark.parametrize("bad", [0.5, 5.5, math.nan, True])
def test_index_rejects_means_outside_1_to_5(bad):
    with pytest.raises(ValueError, match="mean of dimension"):
        weighted_index({"product": bad})


def test_index_percent_maps_1_to_0_and_5_to_100():
    assert index_percent(1.0) == 0.0
    assert index_percent(5.0) == 100.0
    assert index_percent(3.575) == pytest.approx(64.375)


def test_index_percent_of_none_is_none():
    assert index_percent(None) is None


@pytest.mark.parametrize("bad", [0.99, 5.01, math.nan])
def test_index_percent_rejects_values_off_the_1_to_5_scale(bad):
    with pytest.raises(ValueError, match="index"):
        index_percent(bad)


# --- Weak dimensions --------------------------------------------------------


def test_weak_dimension_threshold_defaults_to_3_5():
    assert WEAK_DIMENSION_THRESHOLD == 3.5


def test_weak_dimensions_are_strictly_below_threshold_weakest_first():
    means = {"product": 3.4, "service": 3.5, "environment": 2.0}
    assert weak_dimensions(means) == ["environment", "product"]


def test_weak_dimension_threshold_is_configurable():
    means = {"product": 3.9, "service": 4.5}
    assert weak_dimensions(means, threshold=4.0) == ["product"]


def test_no_weak_dimensions_without_data():
    assert weak_dimensions({}) == []


# --- Properties -------------------------------------------------------------


@given(st.lists(csat_ratings, min_size=1))
def test_property_csat_lies_between_0_and_100(ratings):
    assert 0 <= csat_score(ratings) <= 100


@given(st.lists(csat_ratings, min_size=1))
def test_property_mean_rating_lies_between_1_and_5(ratings):
    assert min(ratings) <= mean_rating(ratings) <= max(ratings)


@given(st.lists(nps_answers, min_size=1))
def test_property_nps_lies_between_minus_100_and_100(scores):
    assert -100 <= nps_score(scores) <= 100


def test_property_nps_category_partitions_0_to_10():
    by_category = {
        c: {s for s in range(11) if nps_category(s) is c} for c in NpsCategory
    }
    assert by_category == {
        NpsCategory.DETRACTOR: set(range(0, 7)),
        NpsCategory.PASSIVE: {7, 8},
        NpsCategory.PROMOTER: {9, 10},
    }


@given(nps_answers)
def test_property_every_nps_answer_has_exactly_one_category(score):
    assert [c for c in NpsCategory if nps_category(score) is c] == [nps_category(score)]


weighted_means = st.dictionaries(
    dimension_names, st.tuples(means_1_to_5, positive_weights), min_size=1
)


def _split(data: dict[str, tuple[float, float]]) -> tuple[dict, dict]:
    return {k: m for k, (m, _) in data.items()}, {k: w for k, (_, w) in data.items()}


@given(weighted_means)
def test_property_index_lies_between_smallest_and_largest_mean(data):
    means, weights = _split(data)
    assert min(means.values()) <= weighted_index(means, weights) <= max(means.values())


@given(st.dictionaries(dimension_names, positive_weights, min_size=1), means_1_to_5)
def test_property_index_of_equal_means_is_that_mean(weights, mean):
    assert weighted_index(dict.fromkeys(weights, mean), weights) == mean


@given(weighted_means, st.floats(min_value=1e-3, max_value=1e3))
def test_property_scaling_all_weights_does_not_change_index(data, factor):
    means, weights = _split(data)
    scaled = {k: w * factor for k, w in weights.items()}
    assert math.isclose(
        weighted_index(means, scaled), weighted_index(means, weights), rel_tol=1e-9
    )


@given(weighted_means)
def test_property_index_percent_lies_between_0_and_100(data):
    means, weights = _split(data)
    assert 0 <= index_percent(weighted_index(means, weights)) <= 100


@given(st.integers().filter(lambda r: not 1 <= r <= 5))
def test_property_out_of_range_csat_rating_raises(rating):
    with pytest.raises(ValueError):
        csat_score([rating])


@given(st.integers().filter(lambda s: not 0 <= s <= 10))
def test_property_out_of_range_nps_answer_raises(score):
    with pytest.raises(ValueError):
        nps_score([score])


@given(st.floats(max_value=-1e-300, allow_nan=False))
def test_property_negative_weight_raises(weight):
    with pytest.raises(ValueError):
        weighted_index({"product": 4.0}, {"product": 40, "service": weight})


@given(st.booleans())
def test_property_bools_are_rejected_everywhere(flag):
    with pytest.raises(ValueError):
        csat_score([flag])
    with pytest.raises(ValueError):
        nps_score([flag])
    with pytest.raises(ValueError):
        weighted_index({"product": 4.0}, {"product": flag})
