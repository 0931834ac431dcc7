"""Half-life of resistant ctDNA after anti-EGFR withdrawal (SPEC 5.7)."""

import datetime
import math

import numpy as np
import pytest
from scipy.stats import norm

from ctdna_resistance.decay import METHOD, fit_decay

END = datetime.date(2024, 3, 1)
# Parseghian et al., 2019: cumulative half-life of RAS/EGFR mutant ctDNA after withdrawal.
HALF_LIFE_DAYS = 4.4 * 365.25 / 12
START_VAF = 0.02
DEPTH = 3000
# Four draws every 12 weeks from withdrawal.
DAYS = [0, 84, 168, 252]


def dates(days):
    return [END + datetime.timedelta(days=d) for d in days]


def expected_vaf(days):
    return START_VAF * 2.0 ** (-np.asarray(days) / HALF_LIFE_DAYS)


def simulated(rng):
    depths = rng.poisson(DEPTH, len(DAYS))
    return rng.binomial(depths, expected_vaf(DAYS)).tolist(), depths.tolist()


def test_half_life_of_expected_counts_is_recovered():
    depths = [DEPTH] * 4
    alt = [round(DEPTH * v) for v in expected_vaf(DAYS)]
    fit = fit_decay(dates(DAYS), alt, depths, end_date=END, lod95=0.001)
    assert fit.half_life_days == pytest.approx(HALF_LIFE_DAYS, rel=0.05)
    assert fit.low < fit.half_life_days < fit.high
    assert fit.n_draws == 4 and fit.method == METHOD and fit.reason == "fitted"


def test_simulated_4_4_month_half_life_is_recovered_as_well_as_the_reads_allow():
    # Four draws at 3000x from 2% hold about 90 alt reads, so no estimator recovers a single
    # patient's half-life within 20% every time. The fit should be unbiased, its interval should
    # cover at 95%, and it should be within 20% as often as the Fisher information allows
    # (an efficient estimator: Var(rate) = 1 / sum mu_i (t_i - weighted mean t)^2).
    rng = np.random.default_rng(44)
    n = 400
    estimates, covered = [], 0
    for _ in range(n):
        fit = fit_decay(dates(DAYS), *simulated(rng), end_date=END, lod95=0.001)
        estimates.append(fit.half_life_days)
        covered += fit.low <= HALF_LIFE_DAYS and (fit.high is None or fit.high >= HALF_LIFE_DAYS)
    estimates = np.array(estimates)
    within = np.mean(np.abs(estimates / HALF_LIFE_DAYS - 1) <= 0.20)
    rate = math.log(2) / HALF_LIFE_DAYS
    mu = DEPTH * expected_vaf(DAYS)
    mean_day = (mu * DAYS).sum() / mu.sum()
    sd = 1 / math.sqrt((mu * (np.array(DAYS) - mean_day) ** 2).sum()) / rate
    # |h/h0 - 1| <= 0.2  <=>  rate/rate0 in [1/1.2, 1/0.8]
    bound = norm.cdf(0.25 / sd) - norm.cdf((1 / 1.2 - 1) / sd)
    assert np.median(estimates) == pytest.approx(HALF_LIFE_DAYS, rel=0.05)
    assert 0.92 <= covered / n <= 0.98
    assert within == pytest.approx(bound, abs=0.06)
    assert within > 0.6


def test_projected_date_below_lod_follows_the_fitted_curve():
    depths = [DEPTH] * 4
    alt = [round(DEPTH * v) for v in expected_vaf(DAYS)]
    fit = fit_decay(dates(DAYS), alt, depths, end_date=END, lod95=0.002)
    # 2% halves to 0.2% after log2(10) half-lives
    expected_day = HALF_LIFE_DAYS * math.log2(START_VAF / 0.002)
    assert abs((fit.projected_below_lod - END).days - expected_day) < 0.05 * expected_day
    assert fit_decay(dates(DAYS), alt, depths, end_date=END, lod95=None).projected_below_lod is None


def test_draws_before_withdrawal_are_ignored_and_two_are_needed():
    before = END - datetime.timedelta(days=30)
    one_after = fit_decay([before, END], [200, 60], [3000, 3000], end_date=END, lod95=0.001)
    assert one_after.half_life_days is None and one_after.n_draws == 1
    assert "needs 2" in one_after.reason
    # the draw before withdrawal (rising) must not bend the fit
    alt = [round(DEPTH * v) for v in expected_vaf(DAYS)]
    with_before = fit_decay(
        [before, *dates(DAYS)], [10, *alt], [DEPTH] * 5, end_date=END, lod95=0.001
    )
    only_after = fit_decay(dates(DAYS), alt, [DEPTH] * 4, end_date=END, lod95=0.001)
    assert with_before == only_after


def test_no_decay_and_vanishing_signal_are_reported_not_fitted():
    rising = fit_decay(dates(DAYS), [30, 45, 60, 90], [DEPTH] * 4, end_date=END, lod95=0.001)
    assert rising.half_life_days is None and "not falling" in rising.reason
    nothing = fit_decay(dates(DAYS), [0, 0, 0, 0], [DEPTH] * 4, end_date=END, lod95=0.001)
    assert nothing.half_life_days is None and "no alt reads" in nothing.reason
    vanished = fit_decay(dates(DAYS), [60, 0, 0, 0], [DEPTH] * 4, end_date=END, lod95=0.001)
    assert vanished.half_life_days is None and "too fast" in vanished.reason
    # but the data still bound the half-life from above
    assert vanished.high is not None and vanished.high < 84


def test_interval_is_unbounded_above_when_no_decay_is_plausible():
    flat_ish = fit_decay(dates([0, 30]), [30, 27], [DEPTH, DEPTH], end_date=END, lod95=0.001)
    assert flat_ish.half_life_days is not None
    assert flat_ish.high is None and "unbounded" in flat_ish.reason
