"""Tumour fraction choice (SPEC 5.3) and absolute copy number from purity-fitting callers."""

import datetime as dt
import math
from types import SimpleNamespace

from ctdna_resistance.calls import choose_tumor_fraction
from ctdna_resistance.copy_number import GeneCopyNumber, call_copy_number
from ctdna_resistance.samplesheet import Sample

SAMPLE = Sample("P1", "S1", dt.date(2024, 1, 1), "T0")


def purple_like(tf):
    return SimpleNamespace(tumor_fraction=tf, tf_source="PURPLE purity", fmt="purple")


def test_the_callers_purity_wins_and_a_disagreeing_vaf_estimate_is_flagged():
    vafs = [0.01, 0.02, 0.05, 0.06, 0.06, 0.06]  # q90 0.06 -> 0.12
    chosen = choose_tumor_fraction(SAMPLE, purple_like(0.31), vafs, max_disagreement=0.1)
    assert (chosen["method"], chosen["value"]) == ("PURPLE purity", 0.31)
    assert [e["method"] for e in chosen["estimates"]] == ["PURPLE purity", "somatic_vaf_q90x2"]
    assert chosen["disagree"] is True and "using PURPLE purity" in chosen["note"]
    close = choose_tumor_fraction(SAMPLE, purple_like(0.15), vafs, max_disagreement=0.1)
    assert close["disagree"] is False and "note" not in close


def test_without_any_estimate_the_method_says_unavailable():
    chosen = choose_tumor_fraction(SAMPLE, None, [0.01])
    assert chosen["value"] is None and chosen["method"] == "unavailable"


def gene(copy_number):
    return GeneCopyNumber(
        gene="MET", chrom="7", start=116672196, end=116798377,
        log2=math.log2(copy_number / 2), n_segments=1, segment_start=116000000,
        segment_end=117000000, segment_bp=1_000_001, n_bins=40, covered_fraction=1.0,
        classes=("amplification",), copy_number=copy_number,
    )  # fmt: skip


def test_absolute_copy_number_is_used_as_the_tumour_copy_number():
    (call,) = call_copy_number([gene(14.25)], 0.31, "PURPLE purity", {}, absolute=True)
    assert call.tumor_cn == 14.25
    assert call.plasma_cn == 0.31 * 14.25 + 2 * 0.69
    assert call.status == "amplification" and "fitted by the caller" in call.rule
    # Re-deriving from log2(CN/2) as if it were a plasma ratio would inflate it three-fold.
    (naive,) = call_copy_number([gene(14.25)], 0.31, "PURPLE purity", {})
    assert naive.tumor_cn > 40


def test_without_any_estimate_the_reason_names_what_was_missing():
    chosen = choose_tumor_fraction(SAMPLE, None, [0.01, 0.02])
    assert chosen["reason"] == (
        "no estimate from a copy-number caller or the sample sheet, and 2 somatic VAFs "
        "(at least 3 are needed)"
    )
    assert "reason" not in choose_tumor_fraction(SAMPLE, None, [0.01, 0.02, 0.03])
