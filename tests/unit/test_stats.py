"""Detection rule and LoD95 (SPEC 5.2) against their definitions."""

import pytest
from scipy.stats import binom

from ctdna_resistance.stats import detection_p_value, is_supported, lod95, min_supported_alt_reads

RULE = {"background_error": 0.0005, "alpha": 0.01, "min_alt_reads": 3}


def test_p_value_is_the_binomial_upper_tail():
    assert detection_p_value(5, 2000, 0.0005) == pytest.approx(binom.sf(4, 2000, 0.0005))
    assert detection_p_value(0, 2000, 0.0005) == 1.0


def test_min_alt_reads_applies_even_when_significant():
    # At depth 100 two reads are already significant against 5e-4 background, but 3 are required.
    assert detection_p_value(2, 100, 0.0005) < 0.01
    assert not is_supported(2, 100, **RULE)
    assert is_supported(3, 100, **RULE)


@pytest.mark.parametrize("depth", [100, 500, 2000, 10000, 30000])
def test_lod95_is_where_detection_probability_reaches_95_percent(depth):
    vaf = lod95(depth, **RULE)
    k = min_supported_alt_reads(depth, 0.0005, 0.01, 3)
    assert binom.sf(k - 1, depth, vaf) == pytest.approx(0.95, abs=1e-6)
    assert binom.sf(k - 1, depth, vaf * 0.95) < 0.95


def test_lod95_falls_with_depth_and_is_unknown_without_depth():
    values = [lod95(d, **RULE) for d in (200, 1000, 5000, 20000)]
    assert values == sorted(values, reverse=True)
    assert lod95(None, **RULE) is None
    assert lod95(0, **RULE) is None
