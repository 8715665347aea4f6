"""Did a finished improvement change deployment minutes? A rank test of before against after.

Pure functions on lists of minutes, no database: reporting/metrics.py hands them the
deployments around each card's done date, and the dashboard and the card show the result.

The rule, for minutes where lower is better:

- **too little data** with fewer than 6 deployments on a side;
- **likely helped** when a one-sided Mann-Whitney U test says "after is lower" at p ≤ 0.05
  and the estimated change is at least 10 % down (smaller changes are not worth a verdict);
- **likely worse**, the mirror image;
- **no change beyond 10 %** only when the whole 95 % interval of the change lies within ±10 %;
- **inconclusive** otherwise: the data cannot tell.

The change is the Hodges-Lehmann estimate on log minutes: the median of all after/before
ratios, with the 95 % interval obtained by inverting the same test (the ratios between the
c-th smallest and c-th largest, c the test's critical count). A rank test needs no
assumption about the shape of the minutes, and blocked deployments (+2 hours) move it by
one rank, not by two hours.

Deployments are not independent: a bad week makes several slow ones. When the lag-1
autocorrelation ρ of log minutes over the recent history is above 0.1, the test's variance
is multiplied by (1 + ρ) / (1 − ρ), the variance inflation of a mean under AR(1)
dependence (the effective sample size n (1 − ρ) / (1 + ρ)); the normal approximation is
then used, since the exact distribution assumes independence.
"""

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy import stats

ALPHA = 0.05  # one-sided, for "likely helped" and "likely worse"
CONFIDENCE = 0.95  # the interval shown, and the one "no change" needs inside ±10 %
PRACTICAL_CHANGE = 0.10  # a change smaller than this is not worth a verdict
MINIMUM_SIDE = 6  # the exact one-sided p of 6 against 6 can reach 0.001; of 5 only 0.004
DEPENDENCE_THRESHOLD = 0.1  # below this the autocorrelation is left as noise
MAX_AUTOCORRELATION = 0.8  # an estimate above this is capped: the variance ×9 at most
# log(0) does not exist and a deployment may take 0 hands-on minutes: the ratios are of
# minutes + 1. The test only uses ranks, so the offset changes the interval, not p.
OFFSET_MINUTES = 1.0
# The autocorrelation is estimated over this many deployments before the before-window
# (and the two windows themselves): 12 or 20 alone would give too rough an estimate.
HISTORY_DEPLOYMENTS = 48
# Exact null distribution while the number of orderings stays an exact float (< 2**53).
EXACT_LIMIT = 50


class Outcome(StrEnum):
    LIKELY_HELPED = "likely_helped"
    LIKELY_WORSE = "likely_worse"
    NO_CHANGE = "no_change"
    INCONCLUSIVE = "inconclusive"
    TOO_LITTLE_DATA = "too_little_data"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]


OUTCOME_LABELS = {
    Outcome.LIKELY_HELPED: "likely helped",
    Outcome.LIKELY_WORSE: "likely worse",
    Outcome.NO_CHANGE: f"no change beyond {round(PRACTICAL_CHANGE * 100)} %",
    Outcome.INCONCLUSIVE: "inconclusive",
    Outcome.TOO_LITTLE_DATA: "too little data",
}


@dataclass(frozen=True)
class Comparison:
    """Before against after. Changes are fractions: −0.38 is 38 % fewer minutes."""

    outcome: Outcome
    before_count: int
    after_count: int
    median_before: float | None = None
    median_after: float | None = None
    change: float | None = None  # Hodges-Lehmann: the median after/before ratio, minus 1
    change_low: float | None = None  # None: the data bound the change on this side
    change_high: float | None = None
    p_helped: float | None = None  # one-sided: after is lower
    p_worse: float | None = None  # one-sided: after is higher
    autocorrelation: float | None = None  # lag-1, of log minutes over the recent history
    variance_factor: float = 1.0
    method: str = ""  # "exact", "normal approximation" or "... widened for dependence"

    @property
    def p_value(self) -> float | None:
        """The one-sided p in the direction of the estimated change."""
        if self.p_helped is None or self.p_worse is None:
            return None
        return self.p_helped if (self.change or 0) <= 0 else self.p_worse

    @property
    def widened(self) -> bool:
        return self.variance_factor > 1

    def sentence(self) -> str:
        """One line with the uncertainty, e.g. for the dashboard and the card."""
        label = self.outcome.label
        if self.outcome == Outcome.TOO_LITTLE_DATA:
            return (
                f"{label}: {self.before_count} deployments before and {self.after_count} "
                f"after; at least {MINIMUM_SIDE} on each side are needed"
            )
        if self.before_count == self.after_count:
            counted = f"{self.before_count} deployments each side"
        else:
            counted = f"{self.before_count} deployments before, {self.after_count} after"
        return (
            f"{label}: median {format_minutes(self.median_before)} → "
            f"{format_minutes(self.median_after)} min ({format_change(self.change)}, "
            f"{round(CONFIDENCE * 100)} % CI {self.interval_text()}), "
            f"p {format_p(self.p_value)}, {counted}"
        )

    def interval_text(self) -> str:
        if self.change_low is None or self.change_high is None:
            return "unbounded: too few deployments for this much noise"
        low, high = format_change(self.change_low), format_change(self.change_high)
        return f"{low.removesuffix(' %')} to {high}"


def format_minutes(minutes: float | None) -> str:
    if minutes is None:
        return "–"
    rounded = round(float(minutes), 1)
    return f"{rounded:.0f}" if rounded.is_integer() else f"{rounded:.1f}"


def format_change(change: float | None) -> str:
    if change is None:
        return "–"
    percent = round(change * 100)
    if percent == 0:
        return "0 %"
    return f"{'+' if percent > 0 else '−'}{abs(percent)} %"


def format_p(p: float | None) -> str:
    """ "= 0.0004", "= 0.31", "< 0.0001": two significant digits, as a comparison."""
    if p is None:
        return "= –"
    if p < 0.0001:
        return "< 0.0001"
    if p >= 0.995:
        return "= 1"
    digits = max(2, 1 - math.floor(math.log10(p)))
    return f"= {p:.{min(digits, 4)}f}"


def lag1_autocorrelation(segments: Sequence[Sequence[float]]) -> float | None:
    """The lag-1 autocorrelation of log minutes, pooled over segments.

    Each segment (the history up to the done date, the deployments after it) is centred on
    its own mean, so the step an improvement makes is not mistaken for dependence. The
    estimate is corrected for its small-sample bias, about −(1 + 3ρ) / n (Kendall).
    None when fewer than 10 pairs or no variation.
    """
    products = squares = 0.0
    pairs = count = 0
    for segment in segments:
        if len(segment) < 3 or min(segment) == max(segment):
            continue  # a run of equal minutes says nothing about dependence
        logged = np.log(np.asarray(segment, dtype=float) + OFFSET_MINUTES)
        centred = logged - logged.mean()
        products += float(np.dot(centred[1:], centred[:-1]))
        squares += float(np.dot(centred, centred))
        pairs += len(segment) - 1
        count += len(segment)
    if pairs < 10 or squares == 0:
        return None
    r = products / squares
    corrected = (r * count + 1) / (count - 3)  # solves r = ρ − (1 + 3ρ) / n for ρ
    return max(-1.0, min(1.0, corrected))


def variance_factor(autocorrelation: float | None) -> float:
    """How much wider the test must be under lag-1 dependence: (1 + ρ) / (1 − ρ)."""
    if autocorrelation is None or autocorrelation <= DEPENDENCE_THRESHOLD:
        return 1.0
    rho = min(autocorrelation, MAX_AUTOCORRELATION)
    return (1 + rho) / (1 - rho)


@functools.cache
def u_cdf(m: int, n: int) -> np.ndarray:
    """P(U ≤ u) for u = 0..mn: the exact null distribution of Mann-Whitney's U.

    The counts are the coefficients of the Gaussian binomial [m + n choose m](q), built
    as the product over i of (1 − q^(n+i)) / (1 − q^i); dividing by (1 − q^i) is a running
    sum with stride i. Exact in floats while C(m + n, m) < 2**53 (m + n ≤ 50).
    """
    size = m * n + 1
    counts = np.zeros(size)
    counts[0] = 1.0
    for i in range(1, m + 1):
        step = n + i
        if step < size:
            counts[step:] = counts[step:] - counts[: size - step]
        padded = np.concatenate([counts, np.zeros((-size) % i)]).reshape(-1, i)
        counts = np.cumsum(padded, axis=0).ravel()[:size]
    cdf = np.cumsum(counts) / math.comb(m + n, m)
    cdf.setflags(write=False)
    return cdf


def _ties_term(values: np.ndarray) -> float:
    _, sizes = np.unique(values, return_counts=True)
    return float(np.sum(sizes.astype(float) ** 3 - sizes))


def compare(
    before: Sequence[float],
    after: Sequence[float],
    *,
    history: Sequence[float] = (),
) -> Comparison:
    """Compare the minutes of the deployments before a done date with those after it.

    `before` and `after` are in time order (latest before last, earliest after first);
    `history` holds earlier deployments, oldest first, and only serves the
    autocorrelation estimate. Minutes must be finite and not negative.
    """
    before_minutes = _checked(before)
    after_minutes = _checked(after)
    m, n = len(after_minutes), len(before_minutes)
    median_before = statistics.median(before_minutes) if n else None
    median_after = statistics.median(after_minutes) if m else None
    if min(m, n) < MINIMUM_SIDE:
        return Comparison(Outcome.TOO_LITTLE_DATA, n, m, median_before, median_after)

    rho = lag1_autocorrelation([[*_checked(history), *before_minutes], after_minutes])
    factor = variance_factor(rho)
    log_before = np.log(np.asarray(before_minutes) + OFFSET_MINUTES)
    log_after = np.log(np.asarray(after_minutes) + OFFSET_MINUTES)
    differences = np.sort(np.subtract.outer(log_after, log_before).ravel())
    pooled = np.concatenate([before_minutes, after_minutes])
    ties = _ties_term(pooled)
    # S counts the pairs where the later deployment was faster (a tie counts half): large
    # when the improvement helped. Under no change its mean is mn / 2.
    below = int(np.count_nonzero(differences < 0))
    equal = int(np.count_nonzero(differences == 0))
    s = below + equal / 2
    mean = m * n / 2
    total = m + n
    variance = m * n / 12 * ((total + 1) - ties / (total * (total - 1))) * factor

    exact = ties == 0 and factor == 1 and total <= EXACT_LIMIT
    if exact:
        p_helped = float(
            stats.mannwhitneyu(
                after_minutes, before_minutes, alternative="less", method="exact"
            ).pvalue
        )
        p_worse = float(
            stats.mannwhitneyu(
                after_minutes, before_minutes, alternative="greater", method="exact"
            ).pvalue
        )
        cdf = u_cdf(min(m, n), max(m, n))
        # The largest c with P(U ≤ c) ≤ 2.5 %; -1 when even U = 0 is more likely.
        critical = int(np.searchsorted(cdf, (1 - CONFIDENCE) / 2, side="right")) - 1
        method = "exact"
    else:
        sd = math.sqrt(variance)
        if sd == 0:  # every deployment took the same minutes: no evidence either way
            p_helped = p_worse = 1.0
        else:  # with the continuity correction, as scipy's asymptotic method
            p_helped = float(stats.norm.sf((s - mean - 0.5) / sd))
            p_worse = float(stats.norm.sf((mean - s - 0.5) / sd))
        z = float(stats.norm.ppf(1 - (1 - CONFIDENCE) / 2))
        critical = math.floor(mean - z * sd - 0.5)
        method = "normal approximation" + (", widened for dependence" if factor > 1 else "")

    change = math.expm1(float(np.median(differences)))
    low: float | None
    high: float | None
    if critical >= 0:
        low = math.expm1(float(differences[critical]))
        high = math.expm1(float(differences[m * n - 1 - critical]))
    else:
        low = high = None

    if p_helped <= ALPHA and change <= -PRACTICAL_CHANGE:
        outcome = Outcome.LIKELY_HELPED
    elif p_worse <= ALPHA and change >= PRACTICAL_CHANGE:
        outcome = Outcome.LIKELY_WORSE
    elif (
        low is not None
        and high is not None
        and low >= -PRACTICAL_CHANGE
        and high <= PRACTICAL_CHANGE
    ):
        outcome = Outcome.NO_CHANGE
    else:
        outcome = Outcome.INCONCLUSIVE
    return Comparison(
        outcome,
        n,
        m,
        change=change,
        change_low=low,
        change_high=high,
        p_helped=p_helped,
        p_worse=p_worse,
        autocorrelation=rho,
        variance_factor=factor,
        method=method,
        median_before=median_before,
        median_after=median_after,
    )


def _checked(minutes: Sequence[float]) -> list[float]:
    values = [float(value) for value in minutes]
    if any(not math.isfinite(value) or value < 0 for value in values):
        raise ValueError("Minutes are finite and not negative.")
    return values
