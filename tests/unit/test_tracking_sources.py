"""Which source tells an alteration's status at a draw where the caller did not call it.

Both the plasma BAM (re-genotyped, tumour-informed) and the caller's own filtered record can
give the depth at a known site. The deeper one has the lower LoD95: its absence says more, so a
shallow BAM no longer hides what a deep caller record shows (or the reverse).
"""

import datetime as dt

import pytest

from ctdna_resistance.samplesheet import Sample
from ctdna_resistance.tracking import DrawData, SiteEvidence, track_patient

KEY = "3:179234296:C>T"
ALTERATION = {
    "key": KEY, "gene": "PIK3CA", "alteration": "p.H1047Y", "type": "SNV", "chrom": "3",
    "pos": "179234296", "ref": "C", "alt": "T", "depth": "2242", "alt_reads": "12",
    "vaf": "0.005352", "p_value": "2.9e-09", "lod95": "0.004078", "copy_number": "",
}  # fmt: skip


def _filtered(depth: int, alt_reads: int) -> dict:
    return {
        "key": KEY, "chrom": "3", "pos": "179234296", "ref": "C", "alt": "T",
        "depth": str(depth), "alt_reads": str(alt_reads), "vaf": str(alt_reads / depth),
        "reason": "not_pass", "filters": "weak_evidence",
    }  # fmt: skip


def _series(bam_depth: int, record_depth: int):
    before = Sample("P", "P-T0", dt.date(2024, 1, 1), "T0")
    after = Sample("P", "P-T1", dt.date(2024, 3, 1), "T1")
    draws = [
        DrawData(
            before,
            [],
            [_filtered(record_depth, 2)],
            {},
            evidence={KEY: SiteEvidence(bam_depth, 0, "bam")},
        ),
        DrawData(after, [ALTERATION], [], {}),
    ]
    return track_patient(draws, {"detection": {"background_error": 0.0005}})[KEY]


@pytest.mark.parametrize(
    ("bam_depth", "record_depth", "depth_used", "status_before", "trend_after"),
    [
        # the caller saw 3306 reads, the BAM 638: the deep absence makes the later call "new"
        (638, 3306, 3306, "not_detected", "new"),
        # a deeper BAM wins over a shallow caller record
        (3306, 638, 3306, "not_detected", "new"),
        # both shallow: the BAM's LoD95 is above the VAF seen later, so that draw could not
        # have seen it and the later call is only "first seen"
        (638, 400, 638, "not_evaluable", "first_seen"),
    ],
)
def test_the_deeper_source_decides(bam_depth, record_depth, depth_used, status_before, trend_after):
    before, after = _series(bam_depth, record_depth)
    assert (before.status, before.depth) == (status_before, depth_used)
    assert after.trend == trend_after
    if record_depth > bam_depth:
        assert before.note.endswith(f"(deeper than the bam: {bam_depth})")
