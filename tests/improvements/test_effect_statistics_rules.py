"""Edges of the "Did it help?" statistics that mutation testing (make mutate) found unpinned.

Pure functions: no database. tests/improvements/test_effect_statistics.py works the rule out
by hand; these pin its boundaries: where the exact test stops, how many pairs the
autocorrelation needs, which p is shown, and how the figures read.
"""

import math
import random

import pytest

from improvements.reporting.effect_statistics import (
    EXACT_LIMIT,
    Comparison,
    Outcome,
    compare,
    format_change,
    format_minutes,
    format_p,
    lag1_autocorrelation,
    u_cdf,
)


def distinct_minutes(count: int, seed: int) -> list[float]:
    """Minutes with no ties, alternating low and high: no positive autocorrelation."""
    rng = random.Random(seed)
    return [rng.uniform(40, 60) + (30 if n % 2 else 0) for n in range(count)]


# --- The exact test and the normal approximation ------------------------------------------------


def test_the_exact_distribution_is_used_up_to_fifty_deployments_in_all():
    before, after = distinct_minutes(25, 1), distinct_minutes(26, 2)

    assert len(before) + len(after[:25]) == EXACT_LIMIT
    assert compare(before, after[:25]).method == "exact"
    assert compare(before, after).method == "normal approximation"


def test_nine_against_nine_takes_the_exact_p_not_scipys_default_approximation():
    # Every later deployment faster: one ordering in C(18, 9) = 48,620. (scipy's default
    # switches to the normal approximation above eight a side: p = 0.0002.)
    slow = [110, 90, 125, 100, 130, 95, 115, 105, 120]
    fast = [60, 45, 75, 40, 80, 50, 70, 55, 65]

    helped, worse = compare(slow, fast), compare(fast, slow)

    assert helped.method == worse.method == "exact"
    assert helped.p_helped == pytest.approx(1 / 48620)
    assert worse.p_worse == pytest.approx(1 / 48620)


def test_the_distribution_of_u_runs_from_0_to_mn_and_cannot_be_changed():
    cdf = u_cdf(6, 9)

    assert len(cdf) == 6 * 9 + 1
    assert cdf[-1] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        cdf[0] = 0.5  # it is cached: a change would reach every later comparison


# --- The autocorrelation -------------------------------------------------------------------------


def by_hand(segments: list[list[float]]) -> float:
    """The documented estimate written out: centred logs, pooled, bias-corrected."""
    products = squares = 0.0
    count = 0
    for segment in segments:
        logged = [math.log(value + 1) for value in segment]
        mean = sum(logged) / len(logged)
        centred = [value - mean for value in logged]
        products += sum(a * b for a, b in zip(centred[1:], centred[:-1], strict=True))
        squares += sum(value * value for value in centred)
        count += len(segment)
    r = products / squares
    return (r * count + 1) / (count - 3)


IRREGULAR = [50, 61, 58, 70, 44, 52, 66, 63, 49, 57, 71]  # 11 deployments: 10 pairs


def test_the_autocorrelation_needs_ten_pairs_of_successive_deployments():
    assert lag1_autocorrelation([IRREGULAR]) == pytest.approx(by_hand([IRREGULAR]))
    assert lag1_autocorrelation([IRREGULAR[:10]]) is None  # 9 pairs
    # Pairs are counted inside each segment: 6 + 6 values make 10 pairs, 5 + 6 only 9.
    six, other_six = IRREGULAR[:6], IRREGULAR[5:]
    assert lag1_autocorrelation([six, other_six]) == pytest.approx(by_hand([six, other_six]))
    assert lag1_autocorrelation([six[:5], other_six]) is None


def test_a_segment_of_three_counts_and_a_shorter_or_constant_one_is_skipped():
    three = [40, 80, 45]
    assert lag1_autocorrelation([three, IRREGULAR]) == pytest.approx(by_hand([three, IRREGULAR]))
    # Skipped segments, wherever they come, leave the estimate as it is.
    for skipped in ([40, 80], [60, 60, 60, 60]):
        assert lag1_autocorrelation([skipped, IRREGULAR]) == pytest.approx(by_hand([IRREGULAR]))


def test_the_estimate_is_kept_between_minus_one_and_one():
    # r = −19/20 over 20 alternating minutes: corrected, (−19 + 1) / 17 is below −1.
    assert lag1_autocorrelation([[30, 90] * 10]) == -1.0
    assert by_hand([[30, 90] * 10]) < -1


# --- Which p is shown ---------------------------------------------------------------------------


def compared(change, p_helped=0.03, p_worse=0.97):
    return Comparison(Outcome.INCONCLUSIVE, 6, 6, change=change, p_helped=p_helped, p_worse=p_worse)


def test_the_p_value_shown_is_the_one_in_the_direction_of_the_change():
    assert compared(-0.4).p_value == 0.03
    assert compared(0.0).p_value == 0.03  # no change: read as "did it help?"
    assert compared(None).p_value == 0.03
    assert compared(0.4).p_value == 0.97
    assert compared(1.5).p_value == 0.97
    assert compared(0.4, p_helped=None).p_value is None
    assert compared(-0.4, p_worse=None).p_value is None


def test_a_test_is_widened_only_by_a_variance_factor_above_one():
    base = Comparison(Outcome.INCONCLUSIVE, 6, 6)
    assert base.variance_factor == 1 and not base.widened
    assert Comparison(Outcome.INCONCLUSIVE, 6, 6, variance_factor=1.5).widened


# --- How the figures read -------------------------------------------------------------------------


def test_an_interval_too_wide_to_bound_reads_as_unbounded():
    # Six against six after a history of slow and fast weeks: the widened test cannot bound it.
    weeks = [minutes for week in range(6) for minutes in [100 if week % 2 else 50] * 8]
    result = compare([80, 84, 78, 82, 86, 81], [60, 64, 58, 62, 66, 61], history=weeks)

    assert (result.change_low, result.change_high) == (None, None)
    assert result.sentence() == (
        "inconclusive: median 81.5 → 61.5 min (−24 %, 95 % CI unbounded: too few deployments "
        "for this much noise), p = 0.18, 6 deployments each side"
    )


def test_an_interval_missing_either_bound_is_unbounded():
    unbounded = "unbounded: too few deployments for this much noise"
    one_side = Comparison(Outcome.INCONCLUSIVE, 6, 6, change_low=-0.2, change_high=None)
    other_side = Comparison(Outcome.INCONCLUSIVE, 6, 6, change_low=None, change_high=0.3)
    assert one_side.interval_text() == other_side.interval_text() == unbounded
    bounded = Comparison(Outcome.INCONCLUSIVE, 6, 6, change_low=-0.2, change_high=0.3)
    assert bounded.interval_text() == "−20 to +30 %"


def test_figures_read_at_their_rounding_edges():
    assert format_change(0.01) == "+1 %"
    assert format_change(-0.01) == "−1 %"
    assert format_minutes(12.04) == "12"  # one decimal at most, then a whole number
    assert format_minutes(12.06) == "12.1"
    assert format_p(0.0001) == "= 0.0001"  # from here down it reads "< 0.0001"
    assert format_p(0.995) == "= 1"
    assert format_p(0.994) == "= 0.99"


def test_a_widened_test_that_can_just_bound_the_change_spans_every_ratio():
    # A history of two slow deployments then two fast ones: ρ ≈ 0.29 widens the variance
    # 1.83 times; the widened test's critical count is then 0, so the interval runs from the
    # smallest after/before ratio of minutes + 1 to the largest.
    history = [50 + 16 * ((n // 2) % 2) + n * 7 % 11 for n in range(48)]
    before, after = [80, 84, 78, 82, 86, 81], [60, 64, 58, 62, 66, 61]

    result = compare(before, after, history=history)

    assert result.variance_factor == pytest.approx(1.833, abs=0.001)
    assert result.change_low == pytest.approx(59 / 87 - 1)
    assert result.change_high == pytest.approx(67 / 79 - 1)
    assert result.outcome == Outcome.LIKELY_HELPED
    assert "95 % CI −32 to −15 %" in result.sentence()


@pytest.mark.parametrize("minutes", [-1, math.inf, math.nan])
def test_minutes_that_are_negative_or_not_finite_are_refused_with_the_reason(minutes):
    with pytest.raises(ValueError, match=r"^Minutes are finite and not negative\.$"):
        compare([60] * 6, [50] * 5 + [minutes])
    with pytest.raises(ValueError, match=r"^Minutes are finite and not negative\.$"):
        compare([60] * 6, [50] * 6, history=[minutes])
