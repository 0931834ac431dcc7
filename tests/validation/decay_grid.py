"""Is a 4.4-month half-life recovered within 20% from four draws? (issue 4 validation, SPEC 5.7)

Run by hand: ``python tests/validation/decay_grid.py [--replicates N] [--seed S]``; prints
Markdown tables (they go into README.md). Not collected by pytest; tests/unit/test_decay.py runs
one cell of this grid through the same functions.

Truth: the cumulative half-life of RAS/EGFR mutant ctDNA after anti-EGFR withdrawal reported by
Parseghian et al., 2019 (Ann Oncol 30:243), 4.4 months = 4.4 * 30.44 days (30.44 days per month,
365.25 / 12 rounded). Per cell (mean depth, VAF at withdrawal, draw schedule):

* Four draws after withdrawal (none on the day itself: progression is seen and therapy stopped
  between draws), every 4, 8 or 12 weeks; the first is one interval after withdrawal.
* Depth per draw ~ negative binomial around the cell's mean depth with size 25 (coefficient of
  variation 0.2, as the simulated cohort draws depth); alt reads ~ Binomial(depth,
  VAF0 * 2^(-t / half-life)). Sampling noise only: no sequencing-error floor, no extra-binomial
  variation between draws, so real data do no better than this.
* Fit: decay.fit_decay called as clone_tracking.track_clones calls it: the draws' dates, alt
  reads and depths, ``end_date`` = withdrawal, ``lod95`` = stats.lod95 at the smallest depth
  under the default detection settings.

Per cell: the fraction of replicates whose half-life is within 20% of the truth (a replicate with
no fit counts as a miss); next to it the information limit, the fraction an efficient estimator
would reach (rate estimate normal with variance 1 / sum mu_i (t_i - t_mu)^2, mu_i the expected
alt reads, t_mu their weighted mean day: the Poisson model's Fisher information); the median
signed and absolute relative error of the half-life and the 95% interval's coverage over the
replicates with a fit; and the fraction with no fit (too few reads to see a falling rate).
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys

import numpy as np

from ctdna_resistance.calls import DEFAULT_DETECTION
from ctdna_resistance.decay import fit_decay
from ctdna_resistance.stats import lod95

DAYS_PER_MONTH = 30.44
HALF_LIFE_MONTHS = 4.4
HALF_LIFE_DAYS = HALF_LIFE_MONTHS * DAYS_PER_MONTH
TOLERANCE = 0.20
TARGET = 0.95
DEPTHS = (1000, 2000, 3000, 5000, 10000, 20000)
START_VAFS = (0.005, 0.01, 0.02, 0.05)
# Four draws after withdrawal every 4, 8 or 12 weeks (days after withdrawal).
SCHEDULES = {
    "every 4 weeks": (28, 56, 84, 112),
    "every 8 weeks": (56, 112, 168, 224),
    "every 12 weeks": (84, 168, 252, 336),
}
DEPTH_NB_SIZE = 25.0  # the simulated cohort's depth dispersion (simulate/cohort.py)
WITHDRAWAL = datetime.date(2024, 3, 1)


def expected_vafs(start_vaf: float, days) -> np.ndarray:
    """VAF at each day after withdrawal under exponential decay with the reference half-life."""
    return start_vaf * 2.0 ** (-np.asarray(days, dtype=float) / HALF_LIFE_DAYS)


def simulate_draws(rng: np.random.Generator, mean_depth: float, start_vaf: float, days):
    """One patient's depths and alt reads at ``days`` after withdrawal."""
    depths = rng.negative_binomial(
        DEPTH_NB_SIZE, DEPTH_NB_SIZE / (DEPTH_NB_SIZE + mean_depth), len(days)
    )
    depths = np.maximum(depths, 1)
    alt = rng.binomial(depths, expected_vafs(start_vaf, days))
    return alt.tolist(), depths.tolist()


def fit_as_product(days, alt: list[int], depths: list[int], detection=DEFAULT_DETECTION):
    """decay.fit_decay with the arguments clone_tracking.track_clones passes."""
    dates = [WITHDRAWAL + datetime.timedelta(days=int(d)) for d in days]
    lod = lod95(
        min(depths),
        background_error=detection["background_error"],
        alpha=detection["alpha"],
        min_alt_reads=detection["min_alt_reads"],
    )
    return fit_decay(dates, alt, depths, end_date=WITHDRAWAL, lod95=lod)


def normal_cdf(x: float) -> float:
    """Standard normal distribution function (math.erf: no scipy.stats import)."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def information_limit(mean_depth: float, start_vaf: float, days) -> float:
    """P(half-life within TOLERANCE) for an efficient, normal estimate of the decay rate."""
    days = np.asarray(days, dtype=float)
    mu = mean_depth * expected_vafs(start_vaf, days)
    mean_day = (mu * days).sum() / mu.sum()
    rate = math.log(2) / HALF_LIFE_DAYS
    sd = 1.0 / math.sqrt((mu * (days - mean_day) ** 2).sum()) / rate  # of rate_hat / rate
    # |h/h0 - 1| <= tol  <=>  rate_hat / rate in [1 / (1 + tol), 1 / (1 - tol)]
    high = 1.0 / (1.0 - TOLERANCE) - 1.0
    low = 1.0 / (1.0 + TOLERANCE) - 1.0
    return normal_cdf(high / sd) - normal_cdf(low / sd)


def run_cell(mean_depth: float, start_vaf: float, days, replicates: int, seed) -> dict:
    """Simulate and fit ``replicates`` patients; the cell's summary statistics."""
    rng = np.random.default_rng(seed)
    errors, covered, no_fit = [], 0, 0
    for _ in range(replicates):
        fit = fit_as_product(days, *simulate_draws(rng, mean_depth, start_vaf, days))
        if fit.half_life_days is None:
            no_fit += 1
            continue
        errors.append(fit.half_life_days / HALF_LIFE_DAYS - 1.0)
        high = math.inf if fit.high is None else fit.high
        low = 0.0 if fit.low is None else fit.low  # None: a 1-day half-life is within the interval
        covered += low <= HALF_LIFE_DAYS <= high
    signed = np.array(errors)
    errors = np.abs(signed)
    fitted = len(errors)
    return {
        "expected_alt": float((mean_depth * expected_vafs(start_vaf, days)).sum()),
        "within": float((errors <= TOLERANCE).sum()) / replicates,
        "information_limit": information_limit(mean_depth, start_vaf, days),
        "median_signed_error": float(np.median(signed)) if fitted else math.nan,
        "median_error": float(np.median(errors)) if fitted else math.nan,
        "coverage": covered / fitted if fitted else math.nan,
        "no_fit": no_fit / replicates,
    }


def grid(replicates: int, seed: int) -> list[dict]:
    """Every cell, each with its own seed stream (a cell's numbers do not depend on the others)."""
    rows = []
    for s_index, (schedule, days) in enumerate(SCHEDULES.items()):
        for d_index, depth in enumerate(DEPTHS):
            for v_index, vaf in enumerate(START_VAFS):
                cell_seed = np.random.SeedSequence([seed, s_index, d_index, v_index])
                result = run_cell(depth, vaf, days, replicates, cell_seed)
                rows.append({"schedule": schedule, "depth": depth, "vaf": vaf, **result})
    return rows


def _percent(value: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:.{digits}f}%"


def markdown(rows: list[dict], replicates: int, seed: int) -> str:
    """The full table and a depth x VAF summary of the within-20% fraction per schedule."""
    lines = [
        f"Half-life {HALF_LIFE_MONTHS} months ({HALF_LIFE_DAYS:.1f} days at {DAYS_PER_MONTH} "
        f"days/month); four draws after withdrawal; {replicates} replicates per cell; seed {seed}. "
        f"**Bold**: >= {TARGET:.0%} of fits within {TOLERANCE:.0%}.",
        "",
        "| schedule | depth | VAF at withdrawal | expected alt reads (4 draws) | within 20% "
        "| information limit | median rel. error | median abs. rel. error | 95% CI coverage "
        "| no fit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        within = _percent(row["within"])
        if row["within"] >= TARGET:
            within = f"**{within}**"
        lines.append(
            f"| {row['schedule']} | {row['depth']:,}x | {100 * row['vaf']:g}% "
            f"| {row['expected_alt']:.0f} | {within} | {_percent(row['information_limit'])} "
            f"| {_percent(row['median_signed_error'])} | {_percent(row['median_error'])} "
            f"| {_percent(row['coverage'])} | {_percent(row['no_fit'])} |"
        )
    lines += ["", "Fraction of fits within 20% of 4.4 months (rows: mean depth; columns: VAF):", ""]
    for schedule in SCHEDULES:
        lines += [
            f"*{schedule}* (days {', '.join(str(d) for d in SCHEDULES[schedule])})",
            "",
            "| depth | " + " | ".join(f"{100 * v:g}%" for v in START_VAFS) + " |",
            "|---:|" + "---:|" * len(START_VAFS),
        ]
        for depth in DEPTHS:
            cells = []
            for vaf in START_VAFS:
                row = next(
                    r
                    for r in rows
                    if (r["schedule"], r["depth"], r["vaf"]) == (schedule, depth, vaf)
                )
                text = _percent(row["within"], 0)
                cells.append(f"**{text}**" if row["within"] >= TARGET else text)
            lines.append(f"| {depth:,}x | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Print the grid as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=44)
    args = parser.parse_args(argv)
    print(markdown(grid(args.replicates, args.seed), args.replicates, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
