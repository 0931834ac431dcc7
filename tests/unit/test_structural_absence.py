"""An amplification or fusion not called at a draw is "not detected" only where that draw could
have called it (SPEC 5.5): the user's story, told with the per-sample outputs of a patient.

A draw whose call could not have fired (tumour fraction too low or unknown) is "not evaluable",
and a later call is then only "first seen"; an adequate absence makes the later call "new".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ctdna_resistance.calls import call_sample
from ctdna_resistance.panel import load_panel
from ctdna_resistance.samplesheet import Sample
from ctdna_resistance.structural_absence import Detection, copy_number_absence, poisson_at_least
from ctdna_resistance.tracking import DrawData, track_patient

REPO = Path(__file__).parents[2]
MET = "7:116672196-116798377:amplification"
FUSION = "fusion:EML4-ALK"
SETTINGS = {
    "amp_copies": 6.0, "focal_max_bp": 10_000_000, "plasma_amp_copies": 2.5,
    "deletion_max_copies": 0.5, "min_bins": 3, "min_tumor_fraction": 0.03,
}  # fmt: skip


def _sample(index: int) -> Sample:
    return Sample("P", f"P-T{index}", dt.date(2024, 1 + 2 * index, 1), f"T{index}")


def _tumour_fraction(value):
    if value is None:
        return {"value": None, "method": "unavailable", "reason": "2 somatic VAFs"}
    return {"value": value, "method": "sample_sheet"}


def _cn_draw(index: int, tf: float | None, tumour_cn: float) -> DrawData:
    """A draw whose MET segment gives ``tumour_cn`` at tumour fraction ``tf``."""
    p = tf or 0.0
    plasma = 2 * (1 - p) + tumour_cn * p
    usable = tf is not None and tf >= SETTINGS["min_tumor_fraction"]
    called = usable and tumour_cn >= SETTINGS["amp_copies"]
    rule = f"tumour CN {tumour_cn:.2f} at TF {tf}" if usable else f"plasma CN {plasma:.2f}"
    gene = {
        "key": MET, "gene": "MET", "copy_number": tumour_cn if tf else plasma, "log2": 0.1,
        "plasma_cn": plasma, "tumor_cn": tumour_cn if tf else None, "n_bins": 24,
        "segment_bp": 3_000_000, "called": called, "rule": rule,
    }  # fmt: skip
    row = {
        "key": MET, "gene": "MET", "alteration": "amplification", "type": "amplification",
        "panel_class": "amplification", "chrom": "7", "pos": "116672196", "ref": "", "alt": "",
        "depth": "", "alt_reads": "", "vaf": "", "p_value": "", "lod95": "",
        "copy_number": str(tumour_cn), "log2": "0.1", "plasma_cn": str(plasma),
        "tumor_cn": str(tumour_cn), "tumor_fraction": str(tf), "cn_rule": rule,
    }  # fmt: skip
    alterations = [row] if called else []
    accounting = {
        "tumor_fraction": _tumour_fraction(tf),
        "copy_number": {"genes": [gene], "settings": SETTINGS},
    }
    return DrawData(_sample(index), alterations, [], accounting)


def _met(draws):
    return track_patient(draws)[MET]


def test_an_amplification_absent_at_a_low_tumour_fraction_is_not_evaluable_and_then_first_seen():
    # T0 at 1.2%: below min_tumour_fraction the plasma rule applies, and a tumour CN of 8.3 gives
    # plasma CN 2.08 there, far below 2.5: the draw could not have called it
    before, after = _met([_cn_draw(0, 0.012, 2.0), _cn_draw(1, 0.08, 8.3)])
    assert before.status == "not_evaluable"
    assert "at tumour fraction 1.2% (sample_sheet)" in before.note
    assert "tumour CN called in this patient (8.30 at P-T1) gives plasma CN 2.08" in before.note
    assert "below plasma_amp_copies 2.5" in before.note
    assert before.trend_reason == before.note
    assert after.trend == "first_seen"
    assert "P-T0: not evaluable" in after.trend_reason


def test_an_amplification_absent_at_a_high_tumour_fraction_is_not_detected_and_then_new():
    before, after = _met([_cn_draw(0, 0.10, 2.0), _cn_draw(1, 0.08, 8.3)])
    assert before.status == "not_detected"
    assert "the tumour-CN rule applies" in before.note and ">= amp_copies 6" in before.note
    assert after.trend == "new"
    assert "P-T0 (the call would have fired)" in after.trend_reason
    # the numbers of the call that did not fire are kept for the report
    assert before.copy_number == 2.0 and before.row["tumor_cn"] == 2.0


def test_a_low_tumour_fraction_is_enough_for_a_high_copy_number():
    # 2% < min_tumor_fraction, but 40 tumour copies give plasma CN 2.76 >= 2.5
    before, after = _met([_cn_draw(0, 0.02, 2.0), _cn_draw(1, 0.08, 40.0)])
    assert before.status == "not_detected" and "plasma CN 2.76" in before.note
    assert after.trend == "new"


def test_without_a_tumour_fraction_the_plasma_copy_number_cannot_be_predicted():
    before, after = _met([_cn_draw(0, None, 2.0), _cn_draw(1, 0.08, 8.3)])
    assert before.status == "not_evaluable"
    assert before.note.startswith("tumour fraction unknown at this draw (2 somatic VAFs)")
    assert "cannot be predicted without it" in before.note
    assert after.trend == "first_seen"


def test_the_least_extreme_call_is_what_an_absence_must_have_seen():
    # called at 12 and at 6.5 copies; at 2.8% the plasma rule sees 12 copies (2.28) no better
    # than 6.5 (2.13): both below 2.5. At 4%, the tumour-CN rule fires for either.
    draws = [_cn_draw(0, 0.028, 2.0), _cn_draw(1, 0.08, 12.0), _cn_draw(2, 0.05, 6.5)]
    assert "(6.50 at P-T2)" in _met(draws)[0].note


def test_an_amplification_that_stops_firing_where_it_could_have_fired_is_cleared():
    called, adequate = _met([_cn_draw(0, 0.08, 8.3), _cn_draw(1, 0.07, 5.2)])
    assert called.trend == "pre_existing"
    assert (adequate.status, adequate.trend) == ("not_detected", "cleared")
    called, blind = _met([_cn_draw(0, 0.08, 8.3), _cn_draw(1, 0.01, 5.2)])
    assert (blind.status, blind.trend) == ("not_evaluable", "not_evaluable")


def _fusion_draw(index: int, tf: float | None, reads: int | None, filtered=None) -> DrawData:
    """A draw with SV calls; EML4-ALK called with ``reads`` supporting reads (None: not called)."""
    depth = (reads or 0) + 2736
    row = {
        "key": FUSION, "gene": "ALK", "alteration": "EML4-ALK", "type": "fusion",
        "panel_class": "fusion", "chrom": "2", "pos": "29223528", "ref": "", "alt": "",
        "depth": str(depth), "alt_reads": str(reads), "vaf": str((reads or 0) / depth),
        "p_value": "", "lod95": "", "copy_number": "",
    }  # fmt: skip
    alterations = [row] if reads is not None else []
    accounting = {
        "tumor_fraction": _tumour_fraction(tf),
        "detection": {"min_alt_reads": 3},
        "sv": {"events_read": 3, "filtered_fusions": filtered or []},
    }
    return DrawData(_sample(index), alterations, [], accounting)


def _alk(draws):
    return track_patient(draws)[FUSION]


def test_a_fusion_absent_at_a_low_tumour_fraction_is_not_evaluable_and_then_first_seen():
    # 30 reads at 10% scale to 6.0 at 2%: P(>= 3 reads) = 0.938 < 0.95
    before, after = _alk([_fusion_draw(0, 0.02, None), _fusion_draw(1, 0.10, 30)])
    assert before.status == "not_evaluable"
    assert "scale to 6.0 expected" in before.note and "P(>= 3 reads) = 0.94 < 0.95" in before.note
    assert "the depth at P-T1 (2766) taken as a proxy" in before.note
    assert after.trend == "first_seen"


def test_a_fusion_absent_at_a_high_tumour_fraction_is_not_detected_and_then_new():
    before, after = _alk([_fusion_draw(0, 0.25, None), _fusion_draw(1, 0.10, 30)])
    assert before.status == "not_detected" and "scale to 75.0 expected" in before.note
    assert after.trend == "new"


def test_a_fusion_without_a_tumour_fraction_at_the_absent_draw_is_not_evaluable():
    before, after = _alk([_fusion_draw(0, None, None), _fusion_draw(1, 0.10, 30)])
    assert before.status == "not_evaluable"
    assert "tumour fraction unknown at this draw" in before.note
    assert after.trend == "first_seen"


def test_a_filtered_fusion_record_gives_the_depth_at_the_breakpoint():
    # the caller wrote it LowQual with 2 reads over 120 reference reads: a shallow breakpoint,
    # 30/2766 x 25%/10% x 122 = 3.3 reads expected, P(>= 3) = 0.64
    weak = [{"key": FUSION, "alt_reads": 2, "ref_reads": 120, "filters": "LowQual", "record_no": 4}]
    before, after = _alk([_fusion_draw(0, 0.25, None, weak), _fusion_draw(1, 0.10, 30)])
    assert before.status == "not_evaluable"
    assert "depth 122 at the breakpoint from the caller's filtered record" in before.note
    assert "the caller wrote it filtered (LowQual) with 2 supporting reads" in before.note
    assert (before.alt_reads, before.depth) == (2, 122)
    assert after.trend == "first_seen"


@pytest.mark.parametrize(("count", "mean"), [(3, 6.0), (3, 6.3), (5, 9.2), (1, 0.5), (0, 0.0)])
def test_poisson_tail_matches_scipy(count, mean):
    from scipy.stats import poisson

    assert poisson_at_least(count, mean) == pytest.approx(poisson.sf(count - 1, mean), abs=1e-12)


def test_the_accounting_keeps_the_weak_fusion_record_and_the_copy_number_settings():
    # P002-T2 of the demo: Delly wrote CCDC6-RET LowQual with 2 supporting pairs
    panel = load_panel(REPO / "panels" / "anti_egfr_crc.yaml", "GRCh38")
    data = REPO / "test_data"
    sample = Sample(
        "P002", "P002-T2", dt.date(2023, 6, 8), "T2", cnv=data / "cnv" / "P002-T2.cns",
        sv=data / "sv" / "P002-T2.delly.vcf", sv_sample="P002-T2",
    )  # fmt: skip
    accounting = call_sample(sample, panel, {"copy_number": {"amp_copies": 7}}).accounting
    (weak,) = accounting["sv"]["filtered_fusions"]
    assert weak["key"] == "fusion:CCDC6-RET" and weak["alt_reads"] == 2
    assert weak["filters"] == "LowQual" and weak["ref_reads"] is not None
    assert accounting["copy_number"]["settings"]["amp_copies"] == 7
    erbb2 = next(g for g in accounting["copy_number"]["genes"] if g["gene"] == "ERBB2")
    assert erbb2["n_bins"] == 24 and erbb2["segment_bp"] > 0


def test_a_deep_deletion_absence_needs_a_usable_tumour_fraction():
    called = Detection(
        "P-T1", {"tumor_cn": "0.2", "tumor_fraction": "0.2"}, {"tumor_fraction": {"value": 0.2}}
    )
    gene = {"rule": "tumour CN 1.80 > deletion_max_copies 0.5", "n_bins": 40}

    def status(tf):
        accounting = {"tumor_fraction": _tumour_fraction(tf)}
        return copy_number_absence(gene, accounting, [called], deletion=True)

    assert status(0.15).status == "not_detected"
    assert "the highest tumour CN called in this patient (0.20 at P-T1)" in status(0.15).reason
    assert status(0.02).status == "not_evaluable" and "cannot be called" in status(0.02).reason
    assert status(None).status == "not_evaluable" and "needs it" in status(None).reason
