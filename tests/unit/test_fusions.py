"""Breakend -> gene mapping and fusion-of-interest calls on hand-written files and real tables."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.fusions import call_fusions, load_gene_table
from ctdna_resistance.io.fusion_table import read_fusion_table
from ctdna_resistance.io.sv_vcf import read_sv_vcf
from ctdna_resistance.panel import load_panel
from ctdna_resistance.records import SvBreakend, SvEvent

REPO = Path(__file__).parents[2]
PANEL_PATH = REPO / "panels" / "anti_egfr_crc.yaml"
SV_DATA = REPO / "tests" / "formats" / "data" / "sv"
GENE_TABLE = REPO / "workflow" / "ctdna_resistance" / "data" / "fusion_genes.tsv"
PANEL_FUSION_GENES = {"ALK", "ROS1", "NTRK1", "NTRK2", "NTRK3", "RET", "FGFR1", "FGFR2", "FGFR3",
                      "BRAF"}  # fmt: skip
NAMED_PARTNERS = {"EML4", "KIF5B", "CD74", "SLC34A2", "TPM3", "LMNA", "ETV6", "CCDC6", "NCOA4",
                  "TACC3", "BAIAP2L1", "AKAP9", "AGK", "NPM1", "TFG", "SQSTM1",
                  "KANK1"}  # fmt: skip


@pytest.fixture(scope="module")
def panel38():
    return load_panel(PANEL_PATH, "GRCh38")


@pytest.fixture(scope="module")
def genes38():
    return load_gene_table("GRCh38")


def _by_label(calls):
    return {call.label: call for call in calls}


# -- the gene-coordinate table -----------------------------------------------------------------


def test_gene_table_rows_are_sourced_and_cover_both_builds():
    with open(GENE_TABLE) as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    symbols = {build: {r["symbol"] for r in rows if r["build"] == build} for build in
               ("GRCh38", "GRCh37")}  # fmt: skip
    assert symbols["GRCh38"] == symbols["GRCh37"]
    assert symbols["GRCh38"] >= PANEL_FUSION_GENES | NAMED_PARTNERS
    assert 30 <= len(symbols["GRCh38"]) <= 80
    for row in rows:
        assert (
            row["source"]
            == {"GRCh38": "gencode_grch38_pkg", "GRCh37": "gencode_grch37_pkg"}[row["build"]]
        )
        assert int(row["start"]) < int(row["end"]) and row["strand"] in "+-"
    verified = sum(1 for row in rows if row["verified_by"])
    assert verified >= 100  # most rows agree with a second source (see data/README.md)


@pytest.mark.parametrize("build", ["GRCh38", "GRCh37"])
def test_panel_fusion_gene_loci_match_the_gene_table(build):
    panel = load_panel(PANEL_PATH, build)
    table = load_gene_table(build)
    fusion = {s for s, g in panel.genes.items() if "fusion" in g.classes}
    assert fusion == PANEL_FUSION_GENES
    for symbol in fusion:
        gene, span = panel.genes[symbol], table.genes[symbol]
        assert (gene.chrom, gene.start, gene.end, gene.strand) == (
            span.chrom, span.start, span.end, span.strand
        )  # fmt: skip


def test_genes_at_either_contig_style(genes38):
    assert genes38.genes_at("chr2", 42301394) == ["EML4"]
    assert genes38.genes_at("2", 29223528) == ["ALK"]
    assert genes38.genes_at("2", 29192773) == []  # one base before ALK's GENCODE start
    assert genes38.genes_at("2", 29192774) == ["ALK"]
    assert load_gene_table("GRCh37").genes_at("chr2", 29446394) == ["ALK"]


def test_unknown_build_is_refused():
    with pytest.raises(InputError, match="unknown genome build"):
        load_gene_table("hg18")


# -- calls on hand-written SV VCFs ---------------------------------------------------------------


def test_manta_fusion_calls(panel38, genes38):
    result = read_sv_vcf(SV_DATA / "manta_somatic.vcf", expected_build="GRCh38")
    calls, others = call_fusions(result.events, panel38, genes38)
    assert [call.label for call in calls] == ["EML4-ALK"]
    eml4 = calls[0]
    # Manta wrote ALK first; orientation (+/+) and strands (EML4 +, ALK -) put EML4 5'.
    assert (eml4.gene_a, eml4.gene_b, eml4.panel_gene, eml4.partner) == (
        "ALK",
        "EML4",
        "ALK",
        "EML4",
    )
    assert eml4.breakpoints == "chr2:42301394;chr2:29223528"
    assert (eml4.split_reads, eml4.spanning_reads, eml4.ref_reads) == (9, 6, 70)
    assert eml4.vaf == pytest.approx(15 / 85)
    assert eml4.in_frame is None and eml4.note == ""
    reasons = {event.event_id: reason for event, reason in others}
    assert reasons == {
        "MantaDEL:2:0:1:0:0:0": "intragenic",  # a DEL inside ALK is not a fusion
        "MantaBND:3:0:1:0:0:0:0": "not_pass",  # CD74-ROS1 with MinSomaticScore
        "MantaBND:4:0:1:0:0:0:0": "record_problem",  # its mate record is missing
    }
    assert len(calls) + len(others) == len(result.events)


def test_delly_no_chr_gives_the_same_fusions_as_manta_chr(panel38, genes38):
    result = read_sv_vcf(SV_DATA / "delly_plasma.vcf", expected_build="GRCh38")
    calls, others = call_fusions(result.events, panel38, genes38)
    by_label = _by_label(calls)
    assert set(by_label) == {"EML4-ALK", "CD74-ROS1"}
    assert by_label["EML4-ALK"].breakpoints == "chr2:42301394;chr2:29223528"
    assert by_label["EML4-ALK"].vaf == pytest.approx(18 / 121)  # RV 11 + DV 7 vs RR 55 + DR 48
    cd74 = by_label["CD74-ROS1"]
    assert (cd74.panel_gene, cd74.partner, cd74.breakpoints) == (
        "ROS1", "CD74", "chr5:150404680;chr6:117324415"
    )  # fmt: skip
    assert cd74.vaf == pytest.approx(9 / 75)
    assert sorted(reason for _, reason in others) == ["intragenic", "no_panel_fusion_gene"]


def test_gridss_single_and_unpaired_breakends_are_reported_not_called(panel38, genes38):
    result = read_sv_vcf(SV_DATA / "gridss_somatic.vcf", sample="plasma.bam")
    calls, others = call_fusions(result.events, panel38, genes38)
    assert [call.label for call in calls] == ["EML4-ALK"]
    assert calls[0].vaf == pytest.approx(14 / 100)  # VF 14 against REF 50 + REFPAIR 36
    assert [reason for _, reason in others] == ["single_breakend", "record_problem"]


def test_svaba_cd74_ros1(panel38, genes38):
    result = read_sv_vcf(SV_DATA / "svaba_somatic.vcf", expected_build="GRCh38")
    (call,), others = call_fusions(result.events, panel38, genes38)
    assert (call.label, call.gene_a, call.gene_b) == ("CD74-ROS1", "CD74", "ROS1")
    assert call.vaf == pytest.approx(12 / 80)  # AD 12 of DP 80
    assert others == []


def test_generic_table_order_vaf_and_intergenic_partner(panel38, genes38):
    events = read_fusion_table(SV_DATA / "fusions_generic.tsv")
    calls, others = call_fusions(events, panel38, genes38)
    by_label = _by_label(calls)
    assert by_label["EML4-ALK"].vaf == pytest.approx(10 / 200)
    assert by_label["CD74-ROS1"].vaf is None  # no ref_reads given
    intergenic = by_label["chr3:10000000-ALK"]
    assert (intergenic.gene_a, intergenic.partner) == ("", "chr3:10000000")
    assert "no listed gene" in intergenic.note
    assert [reason for _, reason in others] == ["no_panel_fusion_gene"]  # EML4-EML4


def test_real_rna_tables_name_the_kinase_fusions(shared_data, panel38, genes38):
    folder = shared_data / "cnv-sv" / "nf-core-testdatasets" / "genome"
    star_calls, _ = call_fusions(read_fusion_table(folder / "starfusion.tsv"), panel38, genes38)
    arriba_calls, arriba_others = call_fusions(
        read_fusion_table(folder / "arriba.tsv"), panel38, genes38
    )
    expected = {"EML4-ALK", "CD74-ROS1", "FGFR3-TACC3", "HOOK3-RET", "ETV6-NTRK3", "AKAP9-BRAF"}
    assert expected <= {call.label for call in star_calls}
    assert expected | {"GOPC-ROS1"} == {call.label for call in arriba_calls}
    eml4 = _by_label(arriba_calls)["EML4-ALK"]
    assert (eml4.breakpoints, eml4.split_reads, eml4.spanning_reads) == (
        "chr2:42301394;chr2:29223584", 4, 3
    )  # fmt: skip
    assert "not_pass" in {reason for _, reason in arriba_others}  # the low-confidence GOPC-ROS1


def test_orientation_unknown_gives_alphabetic_label_with_note(panel38, genes38):
    inversion = SvEvent(
        source="hand", record_no=1, event_id="inv1", sv_type="INV",
        a=SvBreakend("2", 29223528, ""), b=SvBreakend("2", 42301394, ""),
        filters=(), caller="manta", split_reads=3, spanning_reads=None, ref_reads=None,
    )  # fmt: skip
    (call,), _ = call_fusions([inversion], panel38, genes38)
    assert call.label == "ALK::EML4"
    assert "orientation not given" in call.note
    assert call.vaf is None


def test_same_side_orientation_is_not_a_sense_fusion(panel38, genes38):
    # EML4 keeps its 5' part ('+' on a '+' gene) and so does ALK ('-' on a '-' gene).
    event = SvEvent(
        source="hand", record_no=1, event_id="bnd1", sv_type="BND",
        a=SvBreakend("2", 29223528, "-"), b=SvBreakend("2", 42301394, "+"),
        filters=(), caller="manta",
    )  # fmt: skip
    (call,), _ = call_fusions([event], panel38, genes38)
    assert call.label == "ALK::EML4" and "not a sense fusion" in call.note


def test_build_mismatch_is_refused(panel38):
    with pytest.raises(InputError, match="gene table is GRCh37"):
        call_fusions([], panel38, load_gene_table("GRCh37"))


def test_a_table_naming_genes_without_positions_is_matched_by_name():
    """LINX lists fusions by gene name only: a panel kinase named there is a fusion of interest."""
    panel = load_panel(PANEL_PATH, "GRCh37")
    unplaced = SvBreakend("", 0)
    named = [
        SvEvent("linx.tsv", 1, "f1", "FUSION", unplaced, unplaced, (), "linx", gene_a="EML4",
                gene_b="ALK"),
        SvEvent("linx.tsv", 2, "f2", "FUSION", unplaced, unplaced, (), "linx",
                gene_a="TMPRSS2", gene_b="ERG"),
    ]  # fmt: skip
    calls, others = call_fusions(named, panel, load_gene_table("GRCh37"))
    assert [(c.label, c.panel_gene, c.partner, c.breakpoints) for c in calls] == [
        ("EML4-ALK", "ALK", "EML4", "")
    ]
    assert [(e.event_id, reason) for e, reason in others] == [("f2", "no_panel_fusion_gene")]
