"""Gene-level copy number and purity-aware amplification / deep-deletion calls (SPEC 5.4).

Synthetic segments on the panel's real gene coordinates; the expected numbers are worked out by
hand below. The CNVkit comparison runs `cnvkit.py call -m clonal --purity 0.3` on the real
p2-9_2.cns (GRCh37) when CNVkit is installed (the `test` extra installs it).
"""

from __future__ import annotations

import copy
import importlib.util
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ctdna_resistance.copy_number import (
    DEFAULT_COPY_NUMBER,
    GeneCopyNumber,
    call_copy_number,
    gene_copy_number,
    gene_copy_number_by_draw,
    tumour_copy_number,
)
from ctdna_resistance.errors import InputError
from ctdna_resistance.io.copy_number import read_copy_number
from ctdna_resistance.panel import Panel, load_panel
from ctdna_resistance.records import Segment

PANEL = Path(__file__).parents[2] / "panels" / "anti_egfr_crc.yaml"
MET_38 = (116672196, 116798377)  # panel GRCh38 locus of MET (7q31)
MET_37 = (116312444, 116438440)


def seg(chrom, start, end, log2, n_bins=10):
    return Segment("synthetic", 1, chrom, start, end, log2, n_bins)


@pytest.fixture(scope="module")
def panel38():
    return load_panel(PANEL, "GRCh38")


@pytest.fixture(scope="module")
def panel37():
    return load_panel(PANEL, "GRCh37")


# -- gene_copy_number --------------------------------------------------------------------------


def test_gene_spanning_two_segments_is_length_weighted_exactly(panel38):
    start, end = MET_38
    segments = [
        seg("7", 116_600_000, 116_700_000, 1.0, 10),
        seg("7", 116_700_001, 116_900_000, 2.0, 20),
    ]
    (met,) = gene_copy_number(segments, panel38)
    left = 116_700_000 - start + 1  # 27,805 bases of MET in the first segment
    right = end - 116_700_001 + 1  # 98,377 in the second
    assert met.gene == "MET" and met.n_segments == 2
    assert met.log2 == pytest.approx((left * 1.0 + right * 2.0) / (left + right), abs=1e-12)
    # The covering segment is the one holding the larger share: the second.
    assert (met.segment_start, met.segment_end, met.segment_bp) == (
        116_700_001,
        116_900_000,
        200_000,
    )
    assert met.n_bins == 30
    assert met.covered_fraction == 1.0
    assert met.classes == ("amplification",)


def test_partly_covered_gene_reports_the_covered_share(panel38):
    start, end = MET_38
    (met,) = gene_copy_number([seg("7", start + 100_000, end + 5, 1.5)], panel38)
    assert met.log2 == 1.5
    assert met.covered_fraction == pytest.approx((end - start - 100_000 + 1) / (end - start + 1))


def test_genes_without_a_segment_and_genes_without_a_copy_number_class_are_not_reported(panel38):
    # One segment over chr7 covering EGFR (hotspot only), MET (amplification) and BRAF (fusion).
    genes = gene_copy_number([seg("7", 50_000_000, 150_000_000, 0.4)], panel38)
    assert [g.gene for g in genes] == ["MET"]
    assert gene_copy_number([], panel38) == []


def test_chr_and_plain_contig_names_give_the_same_gene_values(panel38):
    plain = gene_copy_number([seg("7", 116_000_000, 117_000_000, 0.9)], panel38)
    prefixed = gene_copy_number([seg("chr7", 116_000_000, 117_000_000, 0.9)], panel38)
    assert plain == prefixed and plain[0].chrom == "7"


def test_each_build_uses_its_own_gene_coordinates(panel37, panel38):
    # A segment ending between MET's GRCh37 end (116.44 Mb) and its GRCh38 start (116.67 Mb).
    segments = [seg("7", 116_000_000, 116_500_000, 1.1)]
    assert [g.gene for g in gene_copy_number(segments, panel37)] == ["MET"]
    assert gene_copy_number(segments, panel38) == []
    (met37,) = gene_copy_number(segments, panel37)
    assert (met37.start, met37.end) == MET_37


def test_genes_come_sorted_by_position(panel38):
    segments = [seg("1", 1, 248_000_000, 0.1), seg("12", 1, 133_000_000, 0.2),
                seg("7", 1, 159_000_000, 0.3), seg("17", 1, 83_000_000, 0.4)]  # fmt: skip
    assert [g.gene for g in gene_copy_number(segments, panel38)] == ["NRAS", "MET", "KRAS", "ERBB2"]


def test_a_panel_deletion_gene_is_reported_with_its_class(panel38):
    with open(PANEL) as handle:
        data = copy.deepcopy(yaml.safe_load(handle))
    for entry in data["genes"]:
        if entry["symbol"] == "ARID1A":  # test-only: pretend the panel lists ARID1A for loss
            entry["classes"] = ["truncating", "deletion"]
    panel = Panel(data, build="GRCh38", path="test-panel", sha256="-")
    (arid1a,) = gene_copy_number([seg("1", 26_600_000, 26_800_000, -3.0)], panel)
    assert arid1a.gene == "ARID1A" and arid1a.classes == ("truncating", "deletion")


# -- call_copy_number --------------------------------------------------------------------------


def gene(log2, *, segment_bp=2_000_000, n_bins=50, classes=("amplification",), name="MET"):
    return GeneCopyNumber(
        gene=name, chrom="7", start=MET_38[0], end=MET_38[1], log2=log2, n_segments=1,
        segment_start=116_000_000, segment_end=116_000_000 + segment_bp - 1,
        segment_bp=segment_bp, n_bins=n_bins, covered_fraction=1.0, classes=classes,
    )  # fmt: skip


# MET at 12 tumour copies in 5% tumour DNA: plasma copies 0.05 * 12 + 0.95 * 2 = 2.5.
DILUTED_MET_LOG2 = math.log2((0.05 * 12 + 0.95 * 2) / 2)


def test_diluted_focal_amplification_is_called_when_the_tumour_fraction_is_known():
    (call,) = call_copy_number([gene(DILUTED_MET_LOG2)], 0.05, "ichorCNA params.txt", {})
    assert call.tumor_cn == pytest.approx(12.0)
    assert call.plasma_cn == pytest.approx(2.5)
    assert call.status == "amplification" and call.focal
    assert call.rule.startswith("tumour CN 12.00 >= amp_copies 6 at TF 0.05 (ichorCNA params.txt)")


def test_same_ratio_without_tumour_fraction_is_not_called_below_the_plasma_rule():
    settings = {"plasma_amp_copies": 3.0}  # an assay whose plasma rule sits above 2.5 copies
    (call,) = call_copy_number([gene(DILUTED_MET_LOG2)], None, "unknown", settings)
    assert call.tumor_cn is None
    assert call.status == "none"
    assert call.rule == "TF unknown: plasma CN 2.50 < plasma_amp_copies 3"


def test_plasma_rule_applies_at_its_threshold_as_printed():
    # With the default 2.5 the same diluted MET sits exactly on the plasma rule: called.
    assert DEFAULT_COPY_NUMBER["plasma_amp_copies"] == 2.5
    (call,) = call_copy_number([gene(DILUTED_MET_LOG2)], None, "unknown", {})
    assert call.status == "amplification"
    assert call.rule.startswith("TF unknown: plasma CN 2.50 >= plasma_amp_copies 2.5")
    (below,) = call_copy_number([gene(math.log2(2.4 / 2))], None, "unknown", {})
    assert below.status == "none"


def test_arm_level_gain_is_not_a_focal_amplification():
    # Tumour CN 8 at TF 0.3 over a 60 Mb segment (a 7q gain): high copies, not focal.
    log2 = math.log2((0.3 * 8 + 0.7 * 2) / 2)
    (call,) = call_copy_number([gene(log2, segment_bp=60_000_000)], 0.3, "sample sheet", {})
    assert call.tumor_cn == pytest.approx(8.0)
    assert not call.focal and call.status == "none"
    assert "segment 60 Mb > focal_max 10 Mb (arm-level)" in call.rule
    (plasma,) = call_copy_number([gene(log2, segment_bp=60_000_000)], None, "unknown", {})
    assert plasma.status == "none" and "arm-level" in plasma.rule


def test_deep_deletion_needs_a_deletion_gene_and_the_tumour_fraction():
    log2 = math.log2((0.4 * 0 + 0.6 * 2) / 2)  # 0 tumour copies at TF 0.4
    deletion_gene = gene(log2, classes=("deletion",), name="ARID1A")
    (call,) = call_copy_number([deletion_gene], 0.4, "ichorCNA params.txt", {})
    assert call.tumor_cn == pytest.approx(0.0, abs=1e-12)
    assert call.status == "deep_deletion"
    assert call.rule.startswith("tumour CN 0.00 <= deletion_max_copies 0.5 at TF 0.4")
    (unknown,) = call_copy_number([deletion_gene], None, "unknown", {})
    assert unknown.status == "none" and "deep deletion needs the tumour fraction" in unknown.rule
    (amp_only,) = call_copy_number([gene(log2)], 0.4, "ichorCNA params.txt", {})
    assert amp_only.status == "none"  # MET is listed for amplification, not for loss


def test_below_the_tumour_fraction_floor_the_plasma_rule_applies():
    log2 = math.log2((0.02 * 20 + 0.98 * 2) / 2)  # 20 copies at 2%: C = 20, plasma 2.36
    (call,) = call_copy_number([gene(log2)], 0.02, "variant VAFs", {})
    assert call.tumor_cn == pytest.approx(20.0)
    assert call.status == "none"
    assert "TF 0.02 (variant VAFs) < min_tumor_fraction 0.03, tumour CN 20.00 not used" in call.rule


def test_too_few_bins_make_no_call():
    (call,) = call_copy_number([gene(3.0, n_bins=2)], 0.5, "ichorCNA params.txt", {})
    assert call.status == "none" and call.rule == "2 bins < min_bins 3: too few to call"


def test_bad_settings_and_tumour_fractions_are_refused():
    with pytest.raises(InputError, match=r"unknown copy_number setting 'amp_copy'"):
        call_copy_number([gene(1.0)], 0.2, "x", {"amp_copy": 5})
    with pytest.raises(InputError, match=r"tumour fraction 12.0 \(sample sheet\) is outside 0-1"):
        call_copy_number([gene(1.0)], 12.0, "sample sheet", {})


# -- agreement with CNVkit `call -m clonal --purity` -------------------------------------------

PURITY = 0.3


def cnvkit_published_clonal(log2: float, purity: float) -> int:
    """CNVkit's documented rescaling (cnvlib/call.py `_log2_ratio_to_absolute`) for an autosome:
    n = (r * 2^v - x * (1 - p)) / p with reference r and expected x copies 2, clamped at 0,
    then rounded as `call` does (numpy round: halves to even)."""
    ncopies = (2 * 2**log2 - 2 * (1 - purity)) / purity
    return round(max(0.0, ncopies))


def autosomal(segments):
    return [s for s in segments if s.chrom not in ("X", "Y", "MT")]


def test_tumour_copy_number_matches_cnvkits_published_formula(shared_data):
    segments = read_copy_number(shared_data / "cnvkit" / "p2-9_2.cns").segments
    assert len(autosomal(segments)) > 250
    for segment in autosomal(segments):
        ours = tumour_copy_number(segment.log2, PURITY)
        assert round(ours) == cnvkit_published_clonal(segment.log2, PURITY), segment


def _cnvkit_command() -> list[str] | None:
    if importlib.util.find_spec("cnvlib") is None:
        return None
    script = Path(sys.executable).with_name("cnvkit.py")
    if script.is_file():
        return [str(script)]
    found = shutil.which("cnvkit.py")
    return [found] if found else None


def test_panel_genes_tumour_copy_number_equals_cnvkit_call_clonal(shared_data, panel37, tmp_path):
    command = _cnvkit_command()
    if command is None:
        pytest.skip("CNVkit is not installed (pip install -e '.[test]' installs it from PyPI)")
    cns = shared_data / "cnvkit" / "p2-9_2.cns"
    out = tmp_path / "p2-9_2.call.cns"
    subprocess.run(
        [*command, "call", "-m", "clonal", "--purity", str(PURITY), str(cns), "-o", str(out)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    cnvkit_calls = read_copy_number(out).segments
    original = read_copy_number(cns, expected_build="GRCh37").segments
    # Same segments, in the same order; CNVkit's cn for each is our rounded C.
    assert [(s.chrom, s.start, s.end) for s in cnvkit_calls] == [
        (s.chrom, s.start, s.end) for s in original
    ]
    for ours, theirs in zip(autosomal(original), autosomal(cnvkit_calls), strict=True):
        assert round(tumour_copy_number(ours.log2, PURITY)) == theirs.copy_number, ours
    # And through the product's gene-level path, for each panel copy-number gene.
    genes = gene_copy_number(original, panel37)
    calls = call_copy_number(genes, PURITY, "sample sheet", {})
    assert {c.gene for c in calls} == {"NRAS", "MET", "KRAS", "ERBB2"}
    for gene_cn, call in zip(genes, calls, strict=True):
        assert gene_cn.n_segments == 1  # each gene lies inside one p2-9_2 segment
        (segment,) = [
            s for s in cnvkit_calls
            if s.chrom == gene_cn.chrom and s.start == gene_cn.segment_start
        ]  # fmt: skip
        assert round(call.tumor_cn) == segment.copy_number, (call.gene, call.tumor_cn)


def test_one_join_for_several_draws_gives_each_draw_its_own_gene_copy_number():
    # run_patient overlaps all of a patient's draws at once; each draw must get exactly what it
    # would get alone, including a draw without segments in the middle
    panel = load_panel(PANEL, "GRCh38")
    cnv = Path(__file__).parents[2] / "test_data" / "cnv"
    draws = [
        read_copy_number(path, expected_build="GRCh38").segments
        for path in sorted(cnv.glob("*.cns"))
    ]
    draws.insert(2, [])
    together = gene_copy_number_by_draw(draws, panel)
    assert together == [gene_copy_number(segments, panel) for segments in draws]
    assert together[2] == [] and all(together[i] for i in (0, 1, 3))


def test_segments_only_off_the_genes_contigs_give_no_gene_and_no_join(panel38):
    # the join takes only segments on contigs that hold a copy-number gene; a draw whose
    # segments all lie elsewhere (chr5, chrX: no panel copy-number gene) gets none
    elsewhere = [seg("chr5", 1, 180_000_000, 1.5), seg("X", 1, 150_000_000, -1.2)]
    assert gene_copy_number_by_draw([elsewhere, []], panel38) == [[], []]
    met = seg("chr7", 116_000_000, 117_000_000, 0.9)
    by_draw = gene_copy_number_by_draw([elsewhere, [*elsewhere, met]], panel38)
    assert by_draw[0] == []
    assert by_draw[1] == gene_copy_number([met], panel38) != []
