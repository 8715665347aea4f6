"""How often does "Did it help?" claim an effect that is not there, and find one that is?

Simulates deployment minutes under three noise models, with no real change and with a real
30 % improvement, and counts the suggested verdicts of today's rule (improvements/reporting/
effect_statistics.py) and of the rule it replaced (medians 10 % apart). The simulation test
(tests/improvements/test_effect_statistics.py) runs the same code with fewer cases.

    .venv/bin/python bench/verdict_simulation.py > bench/verdict_simulation.txt
"""

import argparse
import math
import statistics
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from improvements.reporting.effect_statistics import HISTORY_DEPLOYMENTS, Outcome, compare  # noqa: E402

MEDIAN_MINUTES = 60.0
SPREAD = 0.35  # standard deviation of log minutes: about ±35 %
AR_PHI = 0.5
BLOCKED_SHARE = 0.10
WINDOWS = (8, 12, 20)
SEED = 17


def independent(rng: np.random.Generator, size: int) -> np.ndarray:
    return MEDIAN_MINUTES * np.exp(SPREAD * rng.standard_normal(size))


def autocorrelated(rng: np.random.Generator, size: int) -> np.ndarray:
    """AR(1) log minutes with φ = 0.5 and the same spread as the independent model."""
    shocks = rng.standard_normal(size) * SPREAD * math.sqrt(1 - AR_PHI**2)
    logs = np.empty(size)
    logs[0] = SPREAD * rng.standard_normal()  # start in the stationary distribution
    for t in range(1, size):
        logs[t] = AR_PHI * logs[t - 1] + shocks[t]
    return MEDIAN_MINUTES * np.exp(logs)


def blocked(rng: np.random.Generator, size: int) -> np.ndarray:
    """Independent minutes; one deployment in ten is blocked for another 60 to 240."""
    minutes = independent(rng, size)
    hit = rng.random(size) < BLOCKED_SHARE
    return minutes + hit * rng.uniform(60, 240, size)


NOISE_MODELS: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "independent lognormal": independent,
    "AR(1) phi=0.5": autocorrelated,
    "10 % blocked +60..240": blocked,
}


def old_rule(before: list[float], after: list[float], window: int) -> str:
    """The rule before issue 17: medians of the two sides 10 % apart, no notion of noise."""
    if min(len(before), len(after)) < max(3, math.ceil(window / 2)):
        return "too_little_data"
    median_before, median_after = statistics.median(before), statistics.median(after)
    change = (median_after - median_before) / median_before
    if change <= -0.10:
        return "confirmed"
    if change >= 0.10:
        return "regressed"
    return "no_effect"


def simulate(
    model: str, window: int, cases: int, *, effect: float = 0.0, seed: int = SEED
) -> dict[str, Counter]:
    """Counts of each rule's verdicts over `cases` simulated improvements.

    Each case is HISTORY_DEPLOYMENTS + 2N deployments in time order, rounded to whole
    minutes as they are stored; the improvement is done after the first
    HISTORY_DEPLOYMENTS + N, and the N after it take (1 + effect) times the minutes.
    """
    rng = np.random.default_rng(
        [seed, list(NOISE_MODELS).index(model), window, round(effect * 100) + 100]
    )
    draw = NOISE_MODELS[model]
    counts = {"old": Counter(), "new": Counter()}
    for _ in range(cases):
        series = draw(rng, HISTORY_DEPLOYMENTS + 2 * window)
        series[HISTORY_DEPLOYMENTS + window :] *= 1 + effect
        minutes = np.round(series).tolist()
        history = minutes[:HISTORY_DEPLOYMENTS]
        before = minutes[HISTORY_DEPLOYMENTS : HISTORY_DEPLOYMENTS + window]
        after = minutes[HISTORY_DEPLOYMENTS + window :]
        counts["old"][old_rule(before, after, window)] += 1
        counts["new"][compare(before, after, history=history).outcome] += 1
    return counts


def share(counts: Counter, key: str, cases: int) -> str:
    return f"{counts[key] / cases:6.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=4000, help="per noise model and N")
    args = parser.parse_args()
    cases = args.cases
    print(f"Simulated improvements per row: {cases}; seed {SEED}; minutes lognormal, median")
    print(f"{MEDIAN_MINUTES:.0f} min, sd of log minutes {SPREAD}; history {HISTORY_DEPLOYMENTS}")
    print("deployments before the window; minutes rounded to whole minutes.")
    print(f"Standard error of a share near 5 %: ±{math.sqrt(0.05 * 0.95 / cases):.1%}.\n")
    for effect, title in ((0.0, "No real change"), (-0.30, "A real 30 % improvement")):
        print(f"{title}:")
        print(
            f"{'noise model':<24} {'N':>3} | {'old: confirmed':>14} {'regressed':>9} | "
            f"{'new: helped':>11} {'worse':>6} {'no change':>9} {'inconcl.':>8} {'too few':>7}"
        )
        for model in NOISE_MODELS:
            for window in WINDOWS:
                counts = simulate(model, window, cases, effect=effect)
                old, new = counts["old"], counts["new"]
                print(
                    f"{model:<24} {window:>3} | {share(old, 'confirmed', cases):>14} "
                    f"{share(old, 'regressed', cases):>9} | "
                    f"{share(new, Outcome.LIKELY_HELPED, cases):>11} "
                    f"{share(new, Outcome.LIKELY_WORSE, cases):>6} "
                    f"{share(new, Outcome.NO_CHANGE, cases):>9} "
                    f"{share(new, Outcome.INCONCLUSIVE, cases):>8} "
                    f"{share(new, Outcome.TOO_LITTLE_DATA, cases):>7}"
                )
        print()


if __name__ == "__main__":
    main()
