"""How close "new" calls come to the limit set by the exact binomial test (issue 4 validation).

Run by hand: ``python tests/validation/power_grid.py [--n-sim N] [--seed S]``; prints a markdown
table (it goes into README.md). Not collected by pytest; tests/unit/test_power_grid_small.py runs
a tiny grid through the same functions.

Per cell (depth n, VAF v, background error e), with the detection rule of the default config
(alpha, min_alt_reads from ``ctdna_resistance.calls.DEFAULT_DETECTION``):

* Read model: at a site, each read shows the alternate allele with probability
  p(v, e) = v (1 - 3e) + (1 - v) e, i.e. a read from a mutant molecule stays mutant unless it
  errs to one of the three other bases, and a wild-type read errs to this alt with probability e.
  The detection rule tests against Binomial(n, e) with the same e (the background is known).
* Power: P(X >= k_min), X ~ Binomial(n, p(v, e)), k_min = stats.min_supported_alt_reads: the
  probability the exact binomial test detects the allele at one draw, which no "new" call can beat
  (a new call needs a detection).
* Sensitivity: draw 1 has the allele absent (alt reads from errors only), draw 2 has it at VAF v,
  both at depth n. Each draw's status comes from stats.is_supported (detected) or is not_detected
  with stats.lod95; trends.classify_trends labels draw 2; the fraction labelled "new".
* False new: both draws absent; the fraction of draw 2 labelled "new" (per alteration per draw),
  simulated, and exactly (the product's labels summed over the binomial probabilities of every
  pair of counts).
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys

import numpy as np
from scipy.stats import binom

from ctdna_resistance.calls import DEFAULT_DETECTION
from ctdna_resistance.stats import is_supported, lod95, min_supported_alt_reads
from ctdna_resistance.trends import Draw, classify_trends

DEPTHS = (500, 1000, 2000, 5000, 10000, 20000)
VAFS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05)
ERROR_RATES = (1e-4, 5e-4, 1e-3)
DATES = (datetime.date(2024, 1, 1), datetime.date(2024, 3, 1))
# Binomial mass left out when the exact false-new rate enumerates counts.
_TAIL = 1e-12


def alt_read_probability(vaf: float, error: float) -> float:
    """P(a read shows the alt allele) at this VAF with per-base error to this alt of ``error``."""
    return vaf * (1.0 - 3.0 * error) + (1.0 - vaf) * error


class CellClassifier:
    """The product's label for draw 2 given the alt reads at both draws (memoised per pair)."""

    def __init__(self, depth: int, error: float, alpha: float, min_alt_reads: int) -> None:
        self.depth = depth
        self.error = error
        self.alpha = alpha
        self.min_alt_reads = min_alt_reads
        self.lod = lod95(depth, background_error=error, alpha=alpha, min_alt_reads=min_alt_reads)
        self._labels: dict[tuple[int, int], str] = {}

    def draw(self, sample: str, date: datetime.date, alt_reads: int) -> Draw:
        detected = is_supported(
            alt_reads,
            self.depth,
            background_error=self.error,
            alpha=self.alpha,
            min_alt_reads=self.min_alt_reads,
        )
        status = "detected" if detected else "not_detected"
        return Draw(sample, date, status, alt_reads, self.depth, self.lod)

    def label(self, alt1: int, alt2: int) -> str:
        key = (alt1, alt2)
        if key not in self._labels:
            draws = [self.draw("draw1", DATES[0], alt1), self.draw("draw2", DATES[1], alt2)]
            detected_vafs = [d.alt_reads / d.depth for d in draws if d.status == "detected"]
            calls = classify_trends(
                draws,
                alpha=self.alpha,
                max_vaf_elsewhere=max(detected_vafs) if detected_vafs else None,
            )
            self._labels[key] = calls[1].label
        return self._labels[key]

    def new_fraction(self, alt1: np.ndarray, alt2: np.ndarray) -> float:
        return float(
            np.mean([self.label(int(a), int(b)) == "new" for a, b in zip(alt1, alt2, strict=True)])
        )

    def exact_new_rate(self, p1: float, p2: float) -> float:
        """P(draw 2 labelled new) with alt reads ~ Binomial(depth, p1) then Binomial(depth, p2)."""
        support1 = _support(self.depth, p1)
        support2 = _support(self.depth, p2)
        mass1 = binom.pmf(support1, self.depth, p1)
        mass2 = binom.pmf(support2, self.depth, p2)
        total = 0.0
        for a, w1 in zip(support1, mass1, strict=True):
            for b, w2 in zip(support2, mass2, strict=True):
                if self.label(int(a), int(b)) == "new":
                    total += w1 * w2
        return total


def _support(depth: int, p: float) -> np.ndarray:
    low = int(binom.ppf(_TAIL, depth, p))
    high = int(binom.isf(_TAIL, depth, p))
    return np.arange(max(0, low), min(depth, high) + 1)


def grid_rows(
    depths=DEPTHS,
    vafs=VAFS,
    error_rates=ERROR_RATES,
    *,
    n_sim: int = 4000,
    seed: int = 20240101,
    alpha: float | None = None,
    min_alt_reads: int | None = None,
) -> list[dict]:
    """One row per (error, depth, VAF) cell: power, simulated sensitivity and false-new rates."""
    alpha = DEFAULT_DETECTION["alpha"] if alpha is None else alpha
    min_alt = DEFAULT_DETECTION["min_alt_reads"] if min_alt_reads is None else min_alt_reads
    rows = []
    for error in error_rates:
        for depth in depths:
            classifier = CellClassifier(depth, error, alpha, min_alt)
            k_min = min_supported_alt_reads(depth, error, alpha, min_alt)
            background = alt_read_probability(0.0, error)
            # The absent-absent pairs do not depend on the VAF: one simulation per depth.
            rng = np.random.default_rng([seed, depth, round(error * 1e6)])
            null1 = rng.binomial(depth, background, n_sim)
            null2 = rng.binomial(depth, background, n_sim)
            false_new = classifier.new_fraction(null1, null2)
            false_new_exact = classifier.exact_new_rate(background, background)
            for vaf in vafs:
                p_alt = alt_read_probability(vaf, error)
                power = float(binom.sf(k_min - 1, depth, p_alt))
                cell_rng = np.random.default_rng(
                    [seed, depth, round(error * 1e6), round(vaf * 1e6)]
                )
                absent = cell_rng.binomial(depth, background, n_sim)
                present = cell_rng.binomial(depth, p_alt, n_sim)
                sensitivity = classifier.new_fraction(absent, present)
                rows.append(
                    {
                        "depth": depth,
                        "vaf": vaf,
                        "error": error,
                        "k_min": k_min,
                        "lod95": classifier.lod,
                        "power": power,
                        "sensitivity": sensitivity,
                        "sensitivity_se": math.sqrt(sensitivity * (1 - sensitivity) / n_sim),
                        "false_new": false_new,
                        "false_new_exact": false_new_exact,
                        "n_sim": n_sim,
                        "alpha": alpha,
                    }
                )
    return rows


def markdown_table(rows: list[dict]) -> str:
    """The grid as a markdown table, one line per cell."""
    header = (
        "| error | depth | VAF | k_min | LoD95 | power | sensitivity (new) | sens - power "
        "| false new (sim) | false new (exact) |"
    )
    lines = [header, "|" + "---:|" * 10]
    for r in rows:
        lines.append(
            f"| {r['error']:.0e} | {r['depth']} | {100 * r['vaf']:.2f}% | {r['k_min']} "
            f"| {100 * r['lod95']:.3f}% | {100 * r['power']:.1f}% "
            f"| {100 * r['sensitivity']:.1f}% | {100 * (r['sensitivity'] - r['power']):+.1f} pp "
            f"| {r['false_new']:.4f} | {r['false_new_exact']:.2e} |"
        )
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    """The Done-means checks over the grid, in one paragraph."""
    worst_gap = max(abs(r["sensitivity"] - r["power"]) for r in rows)
    worst_false = max(r["false_new_exact"] for r in rows)
    worst_false_sim = max(r["false_new"] for r in rows)
    alpha = rows[0]["alpha"]
    return (
        f"{len(rows)} cells, {rows[0]['n_sim']} simulated patients per cell and scenario. "
        f"Largest |sensitivity - power|: {100 * worst_gap:.1f} percentage points (limit 5). "
        f"Largest false-new rate per alteration per draw: {worst_false:.2e} exact, "
        f"{worst_false_sim:.4f} simulated (alpha {alpha})."
    )


def main(argv: list[str] | None = None) -> int:
    """Print the grid table and its summary; exit 1 if a Done-means inequality fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sim", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=20240101)
    args = parser.parse_args(argv)
    rows = grid_rows(n_sim=args.n_sim, seed=args.seed)
    print(markdown_table(rows))
    print()
    print(summary(rows))
    failing = [
        r
        for r in rows
        if abs(r["sensitivity"] - r["power"]) > 0.05 or r["false_new_exact"] > r["alpha"]
    ]
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
