"""Clones from simulated serial plasma with known truth (SPEC 5.6)."""

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from ctdna_resistance.calls import MAX_CLONE_MARKERS, call_sample
from ctdna_resistance.clones import Trajectory, adjusted_rand_index, cluster_clones
from ctdna_resistance.panel import load_panel
from ctdna_resistance.samplesheet import read_cohort
from ctdna_resistance.tracking import (
    DrawData,
    clone_marker_sites,
    marker_counts,
    small_variant_rows,
)

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


def test_adjusted_rand_index_against_hand_computed_values():
    # scikit-learn's documented example: pairs together in both = 1, in truth = 2, in the
    # prediction = 1, of C(4, 2) = 6; expected 2 * 1 / 6; ARI = (1 - 1/3) / (3/2 - 1/3) = 4/7
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)
    # truth a,a,a,b,b,c vs 1,1,2,2,3,3: together in both 1 (the two a's in 1), in truth 3 + 1 = 4,
    # predicted 1 + 1 + 1 = 3, of C(6, 2) = 15: (1 - 0.8) / (3.5 - 0.8) = 2/27
    truth = ["a", "a", "a", "b", "b", "c"]
    assert adjusted_rand_index(truth, [1, 1, 2, 2, 3, 3]) == pytest.approx(2 / 27)
    assert adjusted_rand_index([0, 0, 1, 1], ["b", "b", "a", "a"]) == 1.0  # names do not matter
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)
    assert adjusted_rand_index(["x"] * 3, ["y"] * 3) == 1.0  # 0/0: identical partitions
    with pytest.raises(ValueError, match="same items"):
        adjusted_rand_index([0, 1], [0])


def test_adjusted_rand_index_agrees_with_its_pair_counting_definition():
    # the Rand index over pairs, adjusted with the permutation model's expectation (a direct
    # O(n^2) count, independent of the contingency-table formula in the package)
    rng = np.random.default_rng(5)
    for _ in range(20):
        n = int(rng.integers(4, 30))
        truth = rng.integers(0, 3, n).tolist()
        predicted = rng.integers(0, 4, n).tolist()
        pairs = list(itertools.combinations(range(n), 2))
        both = sum(truth[i] == truth[j] and predicted[i] == predicted[j] for i, j in pairs)
        same_truth = sum(truth[i] == truth[j] for i, j in pairs)
        same_predicted = sum(predicted[i] == predicted[j] for i, j in pairs)
        expected = same_truth * same_predicted / len(pairs)
        top = (same_truth + same_predicted) / 2
        direct = 1.0 if top == expected else (both - expected) / (top - expected)
        assert adjusted_rand_index(truth, predicted) == pytest.approx(direct)


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


def _draw(markers, filtered, alterations=()):
    """One draw's tables as tracking reads them back (the sample is not needed here)."""
    accounting = {
        "somatic_markers": markers,
        "detection": {"min_depth": 100, "germline_vaf_band": 0.1},
    }
    return DrawData(None, list(alterations), filtered, accounting)


def _filtered(chrom, pos, ref, alt, depth, alt_reads, reason="not_in_panel"):
    vaf = "" if depth in ("", 0) else alt_reads / depth
    return {
        "chrom": chrom, "pos": str(pos), "ref": ref, "alt": alt, "depth": str(depth),
        "alt_reads": str(alt_reads), "vaf": str(vaf), "reason": reason, "key": "",
    }  # fmt: skip


def test_clone_markers_are_somatic_non_panel_sites_never_germline_like():
    first = _draw(
        {"4:100:C>G": "", "5:200:T>A": "", "6:300:G>T": "", "12:25245350:C>T": "KRAS"},
        [
            _filtered("4", 100, "C", "G", 2000, 40),
            _filtered("5", 200, "T", "A", 2000, 30),
            _filtered("6", 300, "G", "T", 1000, 20),
        ],
        alterations=[{"key": "12:25245350:C>T"}],
    )
    second = _draw(
        {"4:100:C>G": "FBXW7"},
        [
            _filtered("4", 100, "C", "G", 1800, 18, reason="not_in_panel"),
            # germline-like at this draw with enough depth: a germline SNP, not a clone marker
            _filtered("5", 200, "T", "A", 1500, 700),
            # germline-like VAF but below min_depth: not evidence of a germline allele
            _filtered("6", 300, "G", "T", 40, 20),
        ],
    )
    sites = clone_marker_sites([first, second])
    assert list(sites) == ["4:100:C>G", "6:300:G>T"]  # the panel alteration is tracked apart
    assert sites["4:100:C>G"].label == "FBXW7 4:100 C>G"  # a later draw's annotation fills in
    assert sites["6:300:G>T"].label == "6:300 G>T"
    rows = small_variant_rows(second)
    assert marker_counts(second, "4:100:C>G", rows) == (18, 1800)
    # no record and no BAM or coverage at this draw: depth unknown, an uninformative (0, 0)
    third = _draw({}, [])
    assert marker_counts(third, "4:100:C>G", small_variant_rows(third)) == (0, 0)


def test_markers_of_a_padded_multiallelic_record_use_the_minimal_allele_key():
    draw = _draw({"7:11:T>TA": ""}, [_filtered("7", 10, "GT", "GTA", 900, 45)])
    assert list(clone_marker_sites([draw])) == ["7:11:T>TA"]
    assert marker_counts(draw, "7:11:T>TA", small_variant_rows(draw)) == (45, 900)


def test_markers_above_the_cap_are_a_fixed_subset_whatever_the_draw_order():
    many = {f"2:{1000 + 50 * i}:A>C": "" for i in range(MAX_CLONE_MARKERS + 50)}
    rows = [_filtered("2", 1000 + 50 * i, "A", "C", 2000, 30) for i in range(len(many))]
    first, second = _draw(many, rows), _draw(dict(list(many.items())[:10]), rows[:10])
    kept = clone_marker_sites([first, second])
    assert len(kept) == MAX_CLONE_MARKERS and list(kept) == sorted(kept)
    assert clone_marker_sites([second, first]) == kept
    # a subset spread over the candidates, not the first ones in key order
    assert set(kept) != set(sorted(many)[:MAX_CLONE_MARKERS])


def test_a_draws_accounting_lists_its_somatic_non_panel_calls_as_clone_markers():
    demo = Path(__file__).parents[2] / "test_data"
    cohort = read_cohort(demo / "samples.tsv", demo / "treatments.tsv")
    panel = load_panel(Path(__file__).parents[2] / "panels" / "anti_egfr_crc.yaml", "GRCh38")
    calls = call_sample(cohort.sample("P001-T3"), panel)
    markers = calls.accounting["somatic_markers"]
    with open(demo / "truth.tsv", newline="") as handle:
        truth = [r for r in csv.DictReader(handle, delimiter="\t") if r["sample"] == "P001-T3"]
    by_category: dict[str, set] = {}
    for row in truth:
        if row["kind"] == "snv":
            key = f"{row['chrom']}:{row['pos']}:{row['ref']}>{row['alt']}"
            by_category.setdefault(row["category"], set()).add((key, row["filter"]))
    # every PASS truncal and passenger call is a marker; germline and CH calls never are, and
    # the panel alteration is tracked as such, not as a marker
    expected = {k for c in ("truncal", "passenger") for k, f in by_category[c] if f == "PASS"}
    assert expected and set(markers) == expected
    assert calls.accounting["somatic_markers_found"] == len(expected)
    assert not {k for k, _ in by_category["germline"] | by_category["chip"]} & set(markers)
    assert not {k for k, _ in by_category["resistance"]} & set(markers)
