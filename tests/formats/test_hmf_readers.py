"""PURPLE, ASCAT, Control-FREEC, PureCN and LINX readers on real files and hand-written ones."""

from __future__ import annotations

import math

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.copy_number import read_copy_number, read_purity
from ctdna_resistance.io.fusion_table import read_fusion_table
from ctdna_resistance.io.linx import NOT_REPORTED

PURPLE_CNV_HEADER = (
    "chromosome\tstart\tend\tcopyNumber\tbafCount\tobservedBAF\tbaf\tsegmentStartSupport\t"
    "segmentEndSupport\tmethod\tdepthWindowCount\tgcContent\tminStart\tmaxStart\t"
    "minorAlleleCopyNumber\tmajorAlleleCopyNumber\n"
)
PURPLE_PURITY = (
    "purity\tnormFactor\tscore\tdiploidProportion\tploidy\tgender\tstatus\tpolyclonalProportion\t"
    "minPurity\tmaxPurity\tminPloidy\tmaxPloidy\tminDiploidProportion\tmaxDiploidProportion\t"
    "somaticPenalty\twholeGenomeDuplication\tmsIndelsPerMb\tmsStatus\ttml\ttmlStatus\ttmbPerMb\t"
    "tmbStatus\tsvTumorMutationalBurden\trunMode\ttargeted\n"
    "0.2300\t0.9\t0.5\t0.8\t2.1000\tFEMALE\t{status}\t0\t0.2\t0.25\t2\t2.2\t0.8\t0.8\t0\tfalse\t"
    "0.1\tMSS\t10\tLOW\t1.0\tLOW\t5\tTUMOR_GERMLINE\tfalse\n"
)


def _purple_run(folder, rows, status="NORMAL"):
    cnv = folder / "PL1.purple.cnv.somatic.tsv"
    cnv.write_text(PURPLE_CNV_HEADER + "".join(rows))
    (folder / "PL1.purple.purity.tsv").write_text(PURPLE_PURITY.format(status=status))
    return cnv


def _row(chrom, start, end, cn, windows=100):
    return (
        f"{chrom}\t{start}\t{end}\t{cn}\t10\t0.5\t0.5\tBND\tBND\tBAF_WEIGHTED\t{windows}\t0.4\t"
        f"{start}\t{start}\t1\t{cn}\n"
    )


def test_purple_absolute_copy_number_with_purity_from_beside_it(tmp_path):
    cnv = _purple_run(
        tmp_path,
        [
            _row("chr7", 1, 116_000_000, 2.0),
            _row("chr7", 116_000_001, 117_000_000, 14.25),  # MET (GRCh38 116.67-116.80 Mb)
            _row("chr7", 117_000_001, 159_345_973, -0.04),  # PURPLE fit noise at a deletion
        ],
    )
    result = read_copy_number(cnv, expected_build="GRCh38")
    assert result.fmt == "purple_cnv" and result.absolute and result.sample == "PL1"
    assert (result.tumor_fraction, result.ploidy) == (0.23, 2.1)
    assert result.tf_source == "PURPLE purity"
    assert result.purity_source == str(tmp_path / "PL1.purple.purity.tsv")
    met = result.segments[1]
    assert (met.start, met.end, met.copy_number, met.n_bins) == (
        116_000_001,
        117_000_000,
        14.25,
        100,
    )
    assert math.isclose(met.log2, math.log2(14.25 / 2))
    deleted = result.segments[2]
    assert deleted.copy_number == -0.04 and math.isfinite(deleted.log2) and deleted.log2 < -7


def test_purple_no_tumor_status_is_named_in_the_method(tmp_path):
    cnv = _purple_run(tmp_path, [_row("1", 1, 1000, 2.0)], status="NO_TUMOR")
    assert "NO_TUMOR" in read_copy_number(cnv).tf_source


def test_purple_v2_purity_has_a_version_column(shared_data):
    estimate = read_purity(shared_data / "cnv-sv/purple-multiqc/FFPE_sample.purple.purity.tsv")
    assert (estimate.purity, estimate.ploidy) == (0.37, 3.3827)
    assert "PURPLE 2.37" in estimate.notes


def test_purple_real_cnv_of_another_build_is_refused(shared_data):
    path = shared_data / "cnv-sv/hmftools-orange-testrun/tumor_sample.purple.cnv.somatic.tsv"
    assert read_copy_number(path, expected_build="GRCh37").tumor_fraction == 0.99
    with pytest.raises(InputError) as caught:
        read_copy_number(path, expected_build="GRCh38")
    assert "\n" not in caught.value.message and "another genome build" in caught.value.message


def test_purity_file_given_as_segments_says_which_file_to_give(shared_data):
    with pytest.raises(InputError, match=r"purity.tsv:1: this file holds purity and ploidy"):
        read_copy_number(shared_data / "cnv-sv/purple-multiqc/FFPE_sample.purple.purity.tsv")


def test_ascat_sarek_cnvs_with_purityploidy_beside_them(shared_data, tmp_path):
    real = (
        shared_data / "cnv-sv/nf-core-testdatasets/sarek-3.5.1-ascat/HCC1395T_vs_HCC1395N.cnvs.txt"
    )
    cnvs = tmp_path / real.name
    cnvs.write_text(real.read_text())
    (tmp_path / "HCC1395T_vs_HCC1395N.purityploidy.txt").write_text(
        "AberrantCellFraction\tPloidy\n0.81\t3.05\n"
    )
    result = read_copy_number(cnvs, expected_build="GRCh38")
    assert result.fmt == "ascat_cnvs" and result.absolute
    assert (result.tumor_fraction, result.ploidy) == (0.81, 3.05)
    assert result.tf_source == "ASCAT purity (AberrantCellFraction)"
    first = result.segments[0]  # 1 873251 52826532 3 0
    assert (first.chrom, first.start, first.end, first.copy_number) == ("1", 873251, 52826532, 3.0)


def test_ascat_without_a_solution_is_refused(tmp_path):
    (tmp_path / "T_vs_N.cnvs.txt").write_text(
        "chr\tstartpos\tendpos\tnMajor\tnMinor\n1\t1\t9\t1\t1\n"
    )
    (tmp_path / "T_vs_N.purityploidy.txt").write_text("AberrantCellFraction\tPloidy\n0\t0\n")
    with pytest.raises(InputError, match=r"purityploidy.txt:2: .*no purity/ploidy solution"):
        read_copy_number(tmp_path / "T_vs_N.cnvs.txt")


def test_ascat_samplestatistics_rho_not_normal_contamination(shared_data):
    estimate = read_purity(
        shared_data / "cnv-sv/ascat-balsamic/"
        "CNV.somatic.sample_tumor_normal_wgs.ascat.samplestatistics.txt"
    )
    assert estimate.purity == 0.55 and estimate.method == "ASCAT rho"
    assert "0.622" in estimate.notes  # 1 - NormalContamination, kept for the report


def test_controlfreec_window_overlaps_trimmed_and_absolute_only_when_adjusted(
    shared_data, tmp_path
):
    real = (
        shared_data / "cnv-sv/nf-core-testdatasets/sarek-3.5.1-controlfreec/"
        "HCC1395T_vs_HCC1395N.tumor.mpileup.gz_CNVs"
    )
    result = read_copy_number(real, expected_build="GRCh38")
    assert result.fmt == "controlfreec_cnvs" and not result.absolute
    assert len(result.segments) == 439  # no header line: the first line is a call too
    by_line = {s.record_no: s for s in result.segments}
    assert by_line[17].end == 203741348 and by_line[18].start == 203741349  # was 203741153
    copy = tmp_path / real.name
    copy.write_text(real.read_text())
    (tmp_path / "config.txt").write_text("[general]\ncontaminationAdjustment = TRUE\n")
    assert read_copy_number(copy).absolute


def test_controlfreec_bad_status_is_one_line(tmp_path):
    bad = tmp_path / "S.bam_CNVs"
    bad.write_text("1\t100\t200\t3\tgain\n1\t300\t400\t1\tup\n")
    with pytest.raises(InputError, match=r"S.bam_CNVs:2: status 'up' is not gain, loss or neutral"):
        read_copy_number(bad)


def test_purecn_purity_beside_its_dnacopy_seg(tmp_path):
    (tmp_path / "PL1_dnacopy.seg").write_text(
        "ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\nPL1\t12\t1\t30000000\t40\t0.8\n"
    )
    (tmp_path / "PL1.csv").write_text(
        '"Sampleid","Purity","Ploidy","Sex","Contamination","Flagged","Failed","Curated",'
        '"Comment"\n"PL1",0.18,2.05,"M",0,FALSE,FALSE,FALSE,NA\n'
    )
    result = read_copy_number(tmp_path / "PL1_dnacopy.seg")
    assert (result.tumor_fraction, result.tf_source, result.absolute) == (
        0.18,
        "PureCN purity",
        False,
    )


def test_purecn_failed_run_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('"Sampleid","Purity","Ploidy","Failed","Comment"\n"x",0.3,2,TRUE,"NOISY"\n')
    with pytest.raises(InputError, match=r"x.csv:2: PureCN marks sample 'x' Failed"):
        read_purity(path)


LINX_HEADER = (
    "fivePrimeBreakendId\tthreePrimeBreakendId\tname\treported\treportedType\treportableReasons\t"
    "phased\tlikelihood\tchainLength\tchainLinks\tchainTerminated\tdomainsKept\tdomainsLost\t"
    "skippedExonsUp\tskippedExonsDown\tfusedExonUp\tfusedExonDown\tgeneStart\tgeneContextStart\t"
    "transcriptStart\tgeneEnd\tgeneContextEnd\ttranscriptEnd\tjunctionCopyNumber\n"
)


def test_linx_fusions_name_genes_and_carry_linx_reporting(tmp_path):
    path = tmp_path / "PL1.linx.fusion.tsv"
    path.write_text(
        LINX_HEADER
        + "11\t12\tEML4_ALK\ttrue\tKNOWN_PAIR\tOK\tINFRAME\tHIGH\t0\t0\tfalse\t\t\t0\t0\t13\t20\t"
        "EML4\tExon 13\tENST00000318522\tALK\tExon 20\tENST00000389048\t1.2\n"
        + "3\t4\tDMD_DMD\tfalse\tNONE\tNOT_KNOWN\tINFRAME\tNA\t0\t0\tfalse\t\t\t0\t0\t6\t9\t"
        "DMD\tExon 6\tENST00000357033\tDMD\tExon 9\tENST00000357033\t0.9\n"
    )
    eml4_alk, dmd = read_fusion_table(path)
    assert (eml4_alk.gene_a, eml4_alk.gene_b, eml4_alk.sv_type) == ("EML4", "ALK", "FUSION")
    assert eml4_alk.filters == () and eml4_alk.caller == "linx"
    assert eml4_alk.a.pos == 0 and eml4_alk.split_reads is None  # LINX gives neither
    assert dmd.filters == (NOT_REPORTED,) and dmd.record_no == 2


def test_linx_real_file_rows_match_the_file(shared_data):
    path = shared_data / "cnv-sv/hmftools-orange-testrun/tumor_sample.linx.fusion.tsv"
    events = read_fusion_table(path)
    rows = path.read_text().splitlines()[1:]
    assert len(events) == len(rows) == 12
    assert [(e.gene_a, e.gene_b) for e in events] == [
        (r.split("\t")[17], r.split("\t")[20]) for r in rows
    ]
    assert all(e.filters == (NOT_REPORTED,) for e in events)  # all reported=false in this run


def test_linx_bad_reported_value_is_one_line(tmp_path):
    path = tmp_path / "bad.linx.fusion.tsv"
    path.write_text(LINX_HEADER + "1\t2\tA_B\tmaybe" + "\tx" * 13 + "\tA\tx\tx\tB\tx\tx\t1\n")
    with pytest.raises(InputError, match=r"bad.linx.fusion.tsv:2: reported is 'maybe'"):
        read_fusion_table(path)
