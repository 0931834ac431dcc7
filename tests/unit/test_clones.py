"""Clones from simulated serial plasma with known truth (SPEC 5.6)."""

import math
from collections import Counter

import numpy as np
import pytest
from scipy.special import comb

from ctdna_resistance.clones import Trajectory, cluster_clones

TUMOR_FRACTIONS = [0.20, 0.10, 0.05, 0.15, 0.30]
# Cellular prevalence per draw: truncal; a resistant clone that emerges on therapy; a resistant
# clone present at baseline that fades.
PREVALENCE = {
    "truncal": [1.0, 1.0, 1.0, 1.0, 1.0],
    "emerging": [0.0, 0.05, 0.30, 0.60, 0.80],
    "fading": [0.50, 0.20, 0.05, 0.02, 0.01],
}
ERROR = 5e-4


def simulate(seed: int, depth: int, prevalence=PREVALENCE, tumor_fractions=TUMOR_FRACTIONS):
    """Trajectories (3-5 heterozygous SNVs per clone) and the true clone of each."""
    rng = np.random.default_rng(seed)
    trajectories, truth = [], {}
    for clone, phi in prevalence.items():
        for m in range(int(rng.integers(3, 6))):
            depths = rng.poisson(depth, len(tumor_fractions))
            vaf = np.array(phi) * np.array(tumor_fractions) / 2
            # mutant reads stay mutant unless they err; wild-type reads err to this alt
            p_alt = vaf * (1 - 3 * ERROR) + (1 - vaf) * ERROR
            alt = rng.binomial(depths, p_alt)
            key = f"{clone}_{m}"
            resistant = clone != "truncal"
            trajectories.append(Trajectory(key, alt.tolist(), depths.tolist(), resistant))
            truth[key] = clone
    return trajectories, truth


def adjusted_rand_index(truth: list, predicted: list) -> float:
    """Hubert and Arabie's adjusted Rand index of two labellings of the same items."""
    n = len(truth)
    both = sum(comb(v, 2) for v in Counter(zip(truth, predicted, strict=True)).values())
    rows = sum(comb(v, 2) for v in Counter(truth).values())
    cols = sum(comb(v, 2) for v in Counter(predicted).values())
    expected = rows * cols / comb(n, 2)
    top = (rows + cols) / 2
    return 1.0 if top == expected else (both - expected) / (top - expected)


def test_adjusted_rand_index_helper():
    assert adjusted_rand_index([0, 0, 1, 1], ["b", "b", "a", "a"]) == 1.0
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)


@pytest.mark.parametrize("depth", [2000, 5000])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_clones_match_the_truth_at_2000x_and_above(seed, depth):
    trajectories, truth = simulate(seed, depth)
    result = cluster_clones(trajectories, TUMOR_FRACTIONS, seed=0)
    keys = sorted(truth)
    ari = adjusted_rand_index([truth[k] for k in keys], [result.assignments[k] for k in keys])
    assert ari >= 0.9
    assert result.n_clones == 3
    assert min(result.bic, key=result.bic.get) == 3


def test_clones_are_named_by_prevalence_and_carry_intervals():
    trajectories, truth = simulate(7, 3000)
    result = cluster_clones(trajectories, TUMOR_FRACTIONS)
    name_of = {truth[k]: result.assignments[k] for k in truth}
    assert name_of == {"truncal": "C1", "emerging": "C2", "fading": "C3"}
    for clone, name in name_of.items():
        for (estimate, low, high), true_phi in zip(
            result.prevalence[name], PREVALENCE[clone], strict=True
        ):
            assert 0.0 <= low <= estimate <= high <= 1.0
            # pooled over 3-5 alterations at 3000x, the estimate is close to the truth
            assert estimate == pytest.approx(true_phi, abs=0.12)
    # the emerging clone is absent at baseline and large at the end
    assert result.prevalence["C2"][0][0] < 0.05 < 0.6 < result.prevalence["C2"][4][0]


def test_resistant_clones_and_polyclonal_resistance():
    trajectories, _ = simulate(3, 3000)
    result = cluster_clones(trajectories, TUMOR_FRACTIONS, background_error=ERROR)
    assert result.resistant_clones == ["C2", "C3"]
    # emerging and fading clones coexist at draws 2-4
    assert result.polyclonal


def test_resistant_clones_that_never_coexist_are_not_polyclonal():
    prevalence = {
        "truncal": [1.0, 1.0, 1.0, 1.0, 1.0],
        "early": [0.6, 0.3, 0.0, 0.0, 0.0],
        "late": [0.0, 0.0, 0.0, 0.4, 0.8],
    }
    trajectories, truth = simulate(5, 3000, prevalence)
    result = cluster_clones(trajectories, TUMOR_FRACTIONS, background_error=ERROR)
    assert result.n_clones == 3
    resistant = sorted({result.assignments[k] for k in truth if truth[k] != "truncal"})
    assert result.resistant_clones == resistant and len(resistant) == 2
    assert not result.polyclonal
    # With background 0, any error read makes a clone "present": the default is literal.
    assert cluster_clones(trajectories, TUMOR_FRACTIONS).polyclonal


def test_result_does_not_depend_on_input_order_and_repeats_exactly():
    trajectories, _ = simulate(11, 2000)
    first = cluster_clones(trajectories, TUMOR_FRACTIONS)
    again = cluster_clones(list(reversed(trajectories)), TUMOR_FRACTIONS)
    assert first == again
    assert list(first.assignments) == sorted(first.assignments)


def test_unknown_tumour_fraction_or_no_reads_gives_nan_prevalence():
    trajectories, _ = simulate(2, 2000)
    fractions = [*TUMOR_FRACTIONS[:4], None]
    result = cluster_clones(trajectories, fractions)
    assert all(math.isnan(v) for v in result.prevalence["C1"][4])
    assert not math.isnan(result.prevalence["C1"][3][0])
    missing = [Trajectory("a", [5, 0], [1000, 0], False), Trajectory("b", [6, 0], [1100, 0], True)]
    single = cluster_clones(missing, [0.1, 0.1])
    assert single.n_clones == 1
    assert math.isnan(single.prevalence["C1"][1][0])


def test_degenerate_inputs():
    assert cluster_clones([], [0.1]).n_clones == 0
    one = cluster_clones([Trajectory("a", [10], [1000], True)], [0.1])
    assert one.assignments == {"a": "C1"} and one.resistant_clones == ["C1"]
    with pytest.raises(ValueError, match="one \\(alt, depth\\) pair per draw"):
        cluster_clones([Trajectory("a", [10], [1000], True)], [0.1, 0.2])
    with pytest.raises(ValueError, match="unique"):
        cluster_clones([Trajectory("a", [1], [10], True)] * 2, [0.1])
