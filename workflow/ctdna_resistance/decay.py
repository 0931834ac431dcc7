"""Decay of a resistant clone after anti-EGFR withdrawal (SPEC 5.7).

Model: alt reads a_i at draw i (t_i days after the end of anti-EGFR) are Poisson with mean
n_i * exp(alpha + beta * t_i), n_i the depth: a log-linear GLM with log(depth) offset, i.e. VAF
decays exponentially with half-life ln 2 / -beta. At plasma VAFs (well below 50%) this is the
binomial likelihood with a log link to within (1 - VAF), and unlike the binomial log-link model it
is concave with no boundary at VAF = 1. For fixed beta the MLE of alpha has a closed form, so the
fit maximises the profile log-likelihood of beta in one dimension, and the 95% interval is where
2 * (max - profile) stays below the chi-square(1) 0.95 quantile (profile-likelihood interval).

Only sampling noise is modelled: real serial draws vary more than Poisson (pre-analytical and
library effects), so the interval is a lower bound on the real uncertainty.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtri

METHOD = "poisson_glm_log_depth_offset_profile_likelihood"
_CHI2_95 = float(chdtri(1, 0.05))  # chi-square(1) 0.95 quantile
# Search range for the decay rate: half-lives down to one day either way. Faster change than that
# is not estimable from draws weeks apart.
_MAX_RATE = math.log(2) / 1.0


@dataclass(frozen=True)
class DecayFit:
    """Half-life (days) with its 95% interval and the projected date below the LoD."""

    half_life_days: float | None
    low: float | None
    high: float | None
    n_draws: int
    projected_below_lod: datetime.date | None
    method: str
    reason: str


def fit_decay(
    dates: list[datetime.date],
    alt_reads: list[int],
    depths: list[int],
    *,
    end_date: datetime.date,
    lod95: float | None,
) -> DecayFit:
    """Fit exponential decay of VAF over the draws on or after ``end_date``.

    A draw on the day anti-EGFR ends is the decay's starting point, so it counts. Needs at least
    two such draws with depth; otherwise every estimate is None and ``reason`` says why. The
    projected date is the first day the fitted VAF is below ``lod95``; None when a flat course is
    within the 95% interval (the VAF may never fall below it) or without a LoD.
    """
    if not len(dates) == len(alt_reads) == len(depths):
        raise ValueError("dates, alt_reads and depths must have the same length")
    after = [
        (d, a, n)
        for d, a, n in zip(dates, alt_reads, depths, strict=True)
        if d >= end_date and n and n > 0 and a is not None
    ]
    after.sort()
    n_draws = len(after)
    if n_draws < 2:
        return _no_fit(n_draws, f"{n_draws} draw(s) with depth on or after {end_date}; needs 2")
    if len({d for d, _, _ in after}) < 2:
        return _no_fit(n_draws, "all draws after withdrawal are on one day")
    days = np.array([(d - end_date).days for d, _, _ in after], dtype=float)
    alt = np.array([a for _, a, _ in after], dtype=float)
    depth = np.array([n for _, _, n in after], dtype=float)
    if alt.sum() == 0:
        return _no_fit(n_draws, "no alt reads after withdrawal: nothing to fit")
    profile = _profile(days, alt, depth)
    with_reads = days[alt > 0]
    if with_reads.max() == days.min():
        # Reads only at the first day: the likelihood keeps rising as the rate goes to -infinity,
        # so there is no estimate, only an upper bound on the half-life.
        slow = _crossing(_excess(profile, -_MAX_RATE), -_MAX_RATE, _MAX_RATE)
        return DecayFit(
            None, None, _half_life(slow), n_draws, None, METHOD,
            "change too fast to estimate (alt reads only at the first draw)",
        )  # fmt: skip
    if with_reads.min() == days.max():
        return _no_fit(n_draws, "VAF is not falling after withdrawal (alt reads only at the last)")
    rate = _maximising_rate(days, alt, depth)
    excess = _excess(profile, rate)
    # Profile-likelihood bounds on the rate; the fastest decay is the lower rate bound.
    fast = _crossing(excess, rate, -_MAX_RATE)
    slow = _crossing(excess, rate, _MAX_RATE)
    if rate >= 0:
        return DecayFit(
            None, None, None, n_draws, None, METHOD,
            f"VAF is not falling after withdrawal (fitted rate {rate:.3g}/day >= 0)",
        )  # fmt: skip
    high = _half_life(slow)
    reason = "fitted"
    projected = None
    if high is None:
        # A flat course is within the interval, so the VAF may never fall below the LoD; a date
        # from the point estimate alone would read as a forecast the draws do not support (and
        # for a near-flat fit lies centuries ahead).
        reason = (
            "fitted; upper bound unbounded (a flat VAF is within the 95% interval); "
            "no projected date"
        )
    else:
        projected = _projected(days, alt, depth, rate, end_date, lod95)
    return DecayFit(
        half_life_days=math.log(2) / -rate,
        low=_half_life(fast),
        high=high,
        n_draws=n_draws,
        projected_below_lod=projected,
        method=METHOD,
        reason=reason,
    )


def _no_fit(n_draws: int, reason: str) -> DecayFit:
    return DecayFit(None, None, None, n_draws, None, METHOD, reason)


def _profile(days, alt, depth):
    """Profile log-likelihood of the rate (alpha at its MLE; constants dropped)."""
    total_alt = alt.sum()

    def log_likelihood(rate: float) -> float:
        intercept = _intercept(days, alt, depth, rate)
        return float((alt * (intercept + rate * days)).sum() - total_alt)

    return log_likelihood


def _excess(profile, rate: float):
    """Likelihood-ratio statistic against the profile at ``rate``, minus the 95% threshold."""
    best = profile(rate)

    def excess(r: float) -> float:
        return 2.0 * (best - profile(r)) - _CHI2_95

    return excess


def _intercept(days, alt, depth, rate: float) -> float:
    # log-sum-exp: exp(rate * days) overflows for fast change over years of follow-up
    exponent = np.log(depth) + rate * days
    top = exponent.max()
    return math.log(alt.sum()) - float(top + math.log(np.exp(exponent - top).sum()))


def _maximising_rate(days, alt, depth) -> float:
    """The rate maximising the profile log-likelihood within +-_MAX_RATE.

    The profile is concave, so its derivative (the score: observed minus expected sum of alt-read
    times) falls monotonically and its root is found by bisection to 1e-13 per day. Bisection on
    a few draws costs microseconds; scipy.optimize would cost ~0.25 s of import in the job.
    """
    total_alt = alt.sum()
    observed = float((alt * days).sum())

    def score(rate: float) -> float:
        exponent = np.log(depth) + rate * days
        weights = np.exp(exponent - exponent.max())
        return observed - total_alt * float((weights * days).sum() / weights.sum())

    low, high = -_MAX_RATE, _MAX_RATE
    if score(low) <= 0:
        return low
    if score(high) >= 0:
        return high
    return _bisect(lambda rate: -score(rate), low, high, 1e-13)


def _bisect(function, not_above: float, above: float, tolerance: float) -> float:
    """Root of a monotone ``function`` to ``tolerance``: it is <= 0 at ``not_above`` and > 0 at
    ``above``, which may lie on either side."""
    while abs(above - not_above) > tolerance:
        middle = 0.5 * (not_above + above)
        if function(middle) > 0:
            above = middle
        else:
            not_above = middle
    return 0.5 * (not_above + above)


def _crossing(excess, start: float, limit: float) -> float | None:
    """Where the likelihood-ratio statistic crosses the 95% threshold between start and limit.

    ``excess`` is below zero at the maximum ``start`` and rises monotonically towards ``limit``
    (the profile is concave), so bisection finds the single crossing.
    """
    if excess(limit) <= 0 or excess(start) > 0:
        return None
    return _bisect(excess, start, limit, 1e-12)


def _half_life(rate: float | None) -> float | None:
    if rate is None or rate >= 0:
        return None
    return math.log(2) / -rate


def _projected(days, alt, depth, rate, end_date, lod95) -> datetime.date | None:
    """First whole day on which the fitted VAF is below lod95."""
    if lod95 is None or lod95 <= 0 or rate >= 0:
        return None
    intercept = _intercept(days, alt, depth, rate)
    day = (math.log(lod95) - intercept) / rate
    # A slow fitted decay can put the day past the last date the calendar can hold.
    if not math.isfinite(day) or day >= (datetime.date.max - end_date).days:
        return None
    return end_date + datetime.timedelta(days=max(0, math.floor(day) + 1))
