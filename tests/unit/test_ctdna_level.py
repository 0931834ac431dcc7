"""The pooled ctDNA level (issue 20): unbiased, honest intervals, an LoD95 that holds, responses.

Simulated draws: ten markers with per-site background errors between 1e-4 and 1e-3 and depths of
1,000-5,000, reads drawn with p_j = f + (1 - f) e_j, as the model assumes (what the product must
get right is the estimate and its interval, tested here against the truth)."""

from __future__ import annotations

import numpy as np
import pytest

from ctdna_resistance.ctdna_level import (
    DEFAULT_CTDNA_LEVEL,
    CtdnaLevel,
    MarkerCount,
    molecular_response,
    pooled_level,
)

ALPHA = 0.01


def draw(rng, f: float, errors, depths) -> list[MarkerCount]:
    alt = rng.binomial(depths, f + (1 - f) * errors)
    return [
        MarkerCount(f"m{j}", int(k), int(n), float(e), "site")
        for j, (k, n, e) in enumerate(zip(alt, depths, errors, strict=True))
    ]


@pytest.fixture(scope="module")
def sites():
    rng = np.random.default_rng(11)
    return rng.uniform(1e-4, 1e-3, size=10), rng.integers(1000, 5000, size=10)


@pytest.mark.parametrize("f", [0.002, 0.01, 0.05])
def test_estimate_is_unbiased_and_the_interval_covers_the_truth_92_to_98_percent(sites, f):
    errors, depths = sites
    rng = np.random.default_rng(int(f * 1e5))
    runs = 1500
    levels = [pooled_level(draw(rng, f, errors, depths), ALPHA) for _ in range(runs)]
    estimates = np.array([level.estimate for level in levels])
    covered = np.mean([level.low <= f <= level.high for level in levels])
    standard_error = estimates.std() / np.sqrt(runs)
    assert abs(estimates.mean() - f) < 4 * standard_error + 1e-5
    assert 0.92 <= covered <= 0.98


def test_false_positive_rate_at_zero_is_at_most_alpha(sites):
    errors, depths = sites
    rng = np.random.default_rng(3)
    detected = [pooled_level(draw(rng, 0.0, errors, depths), ALPHA).status for _ in range(3000)]
    assert np.mean([s == "detected" for s in detected]) <= ALPHA + 0.005


def test_detection_at_the_pooled_lod95_is_about_95_percent(sites):
    errors, depths = sites
    lod = pooled_level(draw(np.random.default_rng(1), 0.0, errors, depths), ALPHA).lod95
    rng = np.random.default_rng(4)
    found = [pooled_level(draw(rng, lod, errors, depths), ALPHA).status for _ in range(2000)]
    assert 0.93 <= np.mean([s == "detected" for s in found]) <= 0.995


def test_many_markers_each_below_threshold_pool_to_a_detection():
    # the ctDNAtools story: 15 alt reads over ~4,100 across ten markers, none above 3
    counts = [MarkerCount(f"m{j}", k, 410, 2e-4, "site") for j, k in
              enumerate([2, 1, 3, 2, 1, 2, 1, 1, 1, 1])]  # fmt: skip
    level = pooled_level(counts, ALPHA)
    assert level.status == "detected" and level.p_value < 1e-6
    assert level.low > 0 and level.estimate == pytest.approx(15 / 4100 - 2e-4, rel=0.05)


def test_no_reads_is_not_assessed():
    assert pooled_level([MarkerCount("m", 0, 0, 1e-4, "site")]).status == "not_assessed"


def level(estimate, low, high, status="detected") -> CtdnaLevel:
    return CtdnaLevel(status, estimate=estimate, low=low, high=high)


@pytest.mark.parametrize(
    "now,label",
    [
        (level(0.002, 0.001, 0.003), "molecular_response"),
        (level(0.008, 0.004, 0.012), "stable"),
        (level(0.04, 0.03, 0.05), "rise"),
        (level(0.0, 0.0, 0.0004, "not_detected"), "molecular_response"),
    ],
)
def test_molecular_response_uses_the_interval_against_baseline(now, label):
    baseline = level(0.01, 0.008, 0.012)
    got, reason = molecular_response(now, baseline, DEFAULT_CTDNA_LEVEL)
    assert got == label and "baseline" in reason


def test_detection_after_an_undetected_baseline_is_a_rise():
    baseline = level(0.0, 0.0, 0.001, "not_detected")
    assert molecular_response(level(0.01, 0.005, 0.02), baseline, DEFAULT_CTDNA_LEVEL)[0] == "rise"
    quiet = level(0.0, 0.0, 0.001, "not_detected")
    assert molecular_response(quiet, baseline, DEFAULT_CTDNA_LEVEL)[0] == "stable"
