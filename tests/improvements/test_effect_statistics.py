"""The "Did it help?" rule on minutes worked out by hand, and its false-alarm rate simulated.

Pure functions: no database.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from bench.verdict_simulation import NOISE_MODELS, simulate
from improvements.reporting.effect_statistics import (
    Outcome,
    compare,
    format_change,
    format_minutes,
    format_p,
    lag1_autocorrelation,
    u_cdf,
    variance_factor,
)

# Minutes + 1 (the documented offset) are 100, 102, ..., 110 before and half of that after,
# in an order without a trend: every pairwise ratio is half of one of the ratios b_j / b_i.
BEFORE = [99, 109, 101, 107, 103, 105]
HALVED = [49, 54, 50, 53, 51, 52]


# --- Each outcome, by hand ---------------------------------------------------------------


def test_six_faster_deployments_after_six_slower_ones_likely_helped():
    result = compare(BEFORE, HALVED)
    assert result.outcome == Outcome.LIKELY_HELPED
    assert result.method == "exact"
    # All 36 pairs have the later deployment faster: U takes its most extreme value, which
    # one ordering in C(12, 6) = 924 gives.
    assert result.p_helped == pytest.approx(1 / 924)
    assert result.p_worse == pytest.approx(1.0)
    # Hodges-Lehmann: the ratios are ½ b_j / b_i, and the b_j / b_i are symmetric about 1.
    assert result.change == pytest.approx(-0.5)
    # The exact test rejects at U ≤ 5 (P = 19/924 = 2.1 %; U ≤ 6 is 30/924 = 3.2 %), so the
    # interval runs from the 6th smallest ratio to the 6th largest. Five ratios b_j / b_i lie
    # below 104/110: 100/110, 100/108, 102/110, 100/106, 102/108.
    assert result.change_low == pytest.approx(0.5 * 104 / 110 - 1)
    assert result.change_high == pytest.approx(0.5 * 110 / 104 - 1)
    assert (result.median_before, result.median_after) == (104, 51.5)
    assert result.sentence() == (
        "likely helped: median 104 → 51.5 min (−50 %, 95 % CI −53 to −47 %), "
        "p = 0.0011, 6 deployments each side"
    )


def test_the_mirror_image_is_likely_worse():
    result = compare(HALVED, BEFORE)
    assert result.outcome == Outcome.LIKELY_WORSE
    assert result.p_worse == pytest.approx(1 / 924)
    assert result.change == pytest.approx(1.0)
    assert result.change_low == pytest.approx(2 * 104 / 110 - 1)
    assert result.change_high == pytest.approx(2 * 110 / 104 - 1)
    assert result.sentence().startswith("likely worse: median 51.5 → 104 min (+100 %, 95 % CI +89")


def test_the_same_minutes_before_and_after_show_no_change_beyond_ten_percent():
    # Minutes + 1 are 100..111 on both sides, in an order without a trend.
    minutes = [99, 110, 100, 109, 101, 108, 102, 107, 103, 106, 104, 105]
    result = compare(minutes, minutes)
    assert result.outcome == Outcome.NO_CHANGE
    assert result.method == "normal approximation"  # every value appears twice: ties
    assert result.change == 0
    # Tie-corrected variance 12·12/12 · (25 − 12·6/(24·23)) = 298.4; the critical count is
    # ⌊72 − 1.96·17.27 − 0.5⌋ = 37, and exactly 37 ratios b_j / b_i lie below 101/104
    # (1 with b_i = 103, 1 with 104, then 2, 3, ..., 8 with b_i = 105..111).
    assert result.change_low == pytest.approx(101 / 104 - 1)
    assert result.change_high == pytest.approx(104 / 101 - 1)
    assert result.sentence() == (
        "no change beyond 10 %: median 104.5 → 104.5 min (0 %, 95 % CI −3 to +3 %), "
        "p = 0.51, 12 deployments each side"
    )


def test_a_clear_but_small_change_is_no_change_beyond_ten_percent():
    # Every deployment after is faster than every one before, but only by 5 %: the test is
    # sure (p < 0.0001), the practical floor says it is not worth a "helped".
    before = [999 + i for i in (0, 19, 1, 18, 2, 17, 3, 16, 4, 15, 5, 14, 6, 13, 7, 12, 8)]
    after = [(minutes + 1) * 0.95 - 1 for minutes in before]
    result = compare(before, after)
    assert result.p_helped < 0.0001
    assert result.change == pytest.approx(-0.05)
    assert result.outcome == Outcome.NO_CHANGE


def test_overlapping_minutes_are_inconclusive():
    result = compare([60, 110, 70, 100, 80, 90], [40, 105, 45, 95, 50, 85])
    assert result.outcome == Outcome.INCONCLUSIVE
    assert result.change < -0.10  # a big estimate, but p = 0.20: it may well be noise
    assert result.p_helped == pytest.approx(0.2, abs=0.01)
    assert result.change_low < -0.10 < 0.10 < result.change_high


@pytest.mark.parametrize(("before", "after"), [(5, 12), (12, 5), (0, 0), (0, 12)])
def test_fewer_than_six_on_a_side_is_too_little_data(before, after):
    result = compare([60] * before, [40] * after)
    assert result.outcome == Outcome.TOO_LITTLE_DATA
    assert result.p_value is None and result.change is None
    assert result.sentence() == (
        f"too little data: {before} deployments before and {after} after; "
        "at least 6 on each side are needed"
    )


def test_a_side_of_exactly_six_is_enough():
    result = compare(BEFORE, HALVED + [50] * 6)
    assert (result.before_count, result.after_count) == (6, 12)
    assert result.outcome == Outcome.LIKELY_HELPED
    assert result.sentence().endswith("6 deployments before, 12 after")


# --- Edge cases --------------------------------------------------------------------------


def test_all_minutes_equal_is_no_change_with_p_one():
    result = compare([30] * 12, [30] * 12)
    assert result.outcome == Outcome.NO_CHANGE
    assert (result.p_helped, result.p_worse) == (1.0, 1.0)
    assert (result.change, result.change_low, result.change_high) == (0, 0, 0)


def test_equal_minutes_on_each_side_but_lower_after_likely_helped():
    # Two groups of 12 tied values: variance 12 · (25 − 2·(12³ − 12)/(24·23)) = 225.4;
    # z = (144 − 72 − ½) / 15.01 = 4.76.
    result = compare([30] * 12, [20] * 12)
    assert result.outcome == Outcome.LIKELY_HELPED
    assert result.p_helped == pytest.approx(stats.norm.sf(71.5 / math.sqrt(225.3913)))
    assert result.change == result.change_low == result.change_high == pytest.approx(21 / 31 - 1)
    assert result.autocorrelation is None  # runs of equal minutes say nothing about it


def test_zero_minutes_use_the_one_minute_offset():
    # Hands-on minutes that fell to 0: the ratios are 1 / (b + 1), and the median of the 36
    # is 1/11 (b + 1 is 9, 10, 11, 11, 12, 13, each paired with six zeros).
    result = compare([10, 12, 8, 11, 9, 10], [0] * 6)
    assert result.change == pytest.approx(1 / 11 - 1)
    assert result.outcome == Outcome.LIKELY_HELPED
    assert compare([0] * 6, [0] * 6).outcome == Outcome.NO_CHANGE


def test_ties_use_scipys_tie_corrected_normal_approximation():
    before = [60, 62, 60, 75, 58, 66, 71, 60, 64, 69, 62, 70]
    after = [55, 60, 52, 60, 58, 49, 62, 51, 57, 60, 54, 50]
    result = compare(before, after)
    assert result.method == "normal approximation"
    assert result.variance_factor == 1
    for alternative, p in (("less", result.p_helped), ("greater", result.p_worse)):
        expected = stats.mannwhitneyu(after, before, alternative=alternative, method="asymptotic")
        assert p == pytest.approx(expected.pvalue)


def test_negative_or_missing_minutes_are_refused():
    with pytest.raises(ValueError):
        compare([60] * 6, [-1] + [60] * 5)
    with pytest.raises(ValueError):
        compare([60] * 6, [math.nan] * 6)


# --- Dependence --------------------------------------------------------------------------


def test_lag_one_autocorrelation_centres_each_segment_and_corrects_its_bias():
    # Alternating minutes: r = −1 before the correction, whatever the level of each segment.
    alternating = [30, 90] * 10
    r = lag1_autocorrelation([alternating, [x * 2 for x in alternating]])
    raw = -(19 / 20)  # 19 products of −d² over 20 squares d², per segment
    assert r == pytest.approx((raw * 40 + 1) / (40 - 3))
    # A long slow run then a long fast one: near 1, and the correction keeps it at most 1.
    assert lag1_autocorrelation([[30] * 6 + [90] * 6]) == 1.0
    assert lag1_autocorrelation([[60, 70, 80]]) is None  # fewer than 10 pairs
    assert lag1_autocorrelation([[60] * 30]) is None


@pytest.mark.parametrize(
    ("rho", "factor"), [(None, 1), (-0.4, 1), (0.1, 1), (0.5, 3), (0.8, 9), (0.99, 9)]
)
def test_the_variance_is_widened_by_one_plus_rho_over_one_minus_rho(rho, factor):
    assert variance_factor(rho) == pytest.approx(factor)


def test_a_history_of_slow_and_fast_weeks_widens_the_test():
    before = [80, 84, 78, 82, 86, 81, 83, 79]
    after = [60, 64, 58, 62, 66, 61, 63, 59]
    weeks = [slow for week in range(6) for slow in [100 if week % 2 else 50] * 8]
    independent = compare(before, after)
    dependent = compare(before, after, history=weeks)
    assert independent.method == "exact"
    assert dependent.method == "normal approximation, widened for dependence"
    assert dependent.autocorrelation > 0.8 and dependent.variance_factor == pytest.approx(9)
    assert dependent.p_helped > independent.p_helped
    assert dependent.change == independent.change  # the estimate does not depend on it


# --- Properties --------------------------------------------------------------------------

MIRROR = {
    Outcome.LIKELY_HELPED: Outcome.LIKELY_WORSE,
    Outcome.LIKELY_WORSE: Outcome.LIKELY_HELPED,
}
minutes_lists = st.lists(st.integers(min_value=0, max_value=600), min_size=6, max_size=25)


@settings(max_examples=150, deadline=None)
@given(before=minutes_lists, after=minutes_lists)
def test_swapping_before_and_after_mirrors_the_result(before, after):
    forward, backward = compare(before, after), compare(after, before)
    assert backward.outcome == MIRROR.get(forward.outcome, forward.outcome)
    assert backward.p_worse == pytest.approx(forward.p_helped)
    assert (1 + backward.change) * (1 + forward.change) == pytest.approx(1)
    assert 0 <= forward.p_helped <= 1 and 0 <= forward.p_worse <= 1
    if forward.change_low is not None:
        assert forward.change_low <= forward.change <= forward.change_high
        assert (1 + backward.change_high) * (1 + forward.change_low) == pytest.approx(1)


# --- The exact distribution --------------------------------------------------------------


def test_the_exact_distribution_of_u_matches_hand_counts_and_scipy():
    cdf = u_cdf(6, 6)
    # Orderings with U = 0..5 are the partitions of 0..5 into at most six parts ≤ 6.
    assert cdf[5] * 924 == pytest.approx(1 + 1 + 2 + 3 + 5 + 7)
    assert cdf[-1] == pytest.approx(1.0)
    rng = np.random.default_rng(17)
    for m, n in ((6, 6), (5, 9), (12, 12), (20, 25)):
        after, before = rng.permutation(m + n)[:m], rng.permutation(m + n)[:n] + 0.5
        u = int(np.sum(np.subtract.outer(after, before) > 0))  # after above before
        expected = stats.mannwhitneyu(after, before, alternative="less", method="exact")
        assert u_cdf(min(m, n), max(m, n))[u] == pytest.approx(expected.pvalue)


# --- Wording -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.00004, "< 0.0001"),
        (0.0004, "= 0.0004"),
        (0.0123, "= 0.012"),
        (0.31, "= 0.31"),
        (0.999, "= 1"),
        (None, "= –"),
    ],
)
def test_p_values_read_with_two_significant_digits(p, text):
    assert format_p(p) == text


def test_minutes_read_with_at_most_one_decimal():
    assert [format_minutes(m) for m in (104, 51.5, 957.99999, 0, None)] == [
        "104",
        "51.5",
        "958",
        "0",
        "–",
    ]


def test_changes_read_as_signed_percentages():
    assert [format_change(c) for c in (-0.384, 0.004, 0.19, None)] == [
        "−38 %",
        "0 %",
        "+19 %",
        "–",
    ]


# --- False alarms and power, simulated ---------------------------------------------------

CASES = 400
# Two standard errors of a share of 5 % over CASES: the simulation's own error.
TOLERANCE = 2 * math.sqrt(0.05 * 0.95 / CASES)


@pytest.mark.parametrize("window", [8, 12, 20])
@pytest.mark.parametrize("model", list(NOISE_MODELS))
def test_with_no_real_change_likely_helped_is_rare(model, window):
    counts = simulate(model, window, CASES)["new"]
    assert sum(counts.values()) == CASES
    assert counts[Outcome.LIKELY_HELPED] / CASES <= 0.05 + TOLERANCE
    assert counts[Outcome.LIKELY_WORSE] / CASES <= 0.05 + TOLERANCE


def test_a_real_thirty_percent_improvement_is_found_at_twelve_deployments():
    counts = simulate("independent lognormal", 12, CASES, effect=-0.30)["new"]
    assert sum(counts.values()) == CASES
    assert counts[Outcome.LIKELY_HELPED] / CASES >= 0.70
    assert counts[Outcome.LIKELY_WORSE] == 0
