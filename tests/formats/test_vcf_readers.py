"""Small-variant VCF reader on hand-written minimal files, one per caller dialect (SPEC 3.4).

Each file in tests/formats/data/vcf/ was written by hand to the shape the caller writes; the
expected depth / alt reads / VAF below are worked out from the numbers in the file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pysam
import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.vcf import detect_build, detect_dialect, open_vcf

DATA = Path(__file__).parent / "data" / "vcf"


def read_all(name: str, **options):
    """(reader, records) of a minimal file, read to the end."""
    with open_vcf(DATA / name, **options) as reader:
        return reader, list(reader)


def by_allele(records):
    return {(record.pos, record.alt): record for record in records}


def test_mutect2_uses_tumour_sample_metadata_and_splits_multiallelic():
    reader, records = read_all("mutect2_paired.vcf")
    assert reader.dialect == "mutect2"
    assert reader.samples == ["WBC1", "PLASMA1"]
    assert reader.sample == "PLASMA1"  # from ##tumor_sample, although it is the second column
    assert reader.build == "GRCh38"
    assert reader.contig_style == "chr"
    assert reader.records_read == 4
    alleles = by_allele(records)

    no_format_dp = alleles[(114713908, "C")]  # depth falls back to sum(AD)
    assert (no_format_dp.depth, no_format_dp.alt_reads, no_format_dp.vaf) == (500, 50, 0.1)
    assert no_format_dp.chrom == "1" and no_format_dp.raw_chrom == "chr1"

    first, second = alleles[(25245347, "A")], alleles[(25245347, "T")]
    assert (first.depth, first.alt_reads, first.vaf) == (900, 30, 0.03)
    assert (second.depth, second.alt_reads, second.vaf) == (900, 70, 0.07)
    assert (first.alt_index, second.alt_index, first.n_alts) == (1, 2, 2)
    assert first.record_no == second.record_no == 2
    assert first.filters == ("multiallelic",)

    kras = alleles[(25245350, "A")]
    assert (kras.depth, kras.alt_reads, kras.vaf) == (1010, 100, 0.1)  # FORMAT/DP and FORMAT/AF
    assert kras.vcf_id == "rs121913529"
    assert kras.problem is None and kras.caller == "mutect2"
    assert kras.key == "12:25245350:C>A"


def test_mutect2_record_violating_number_r_is_yielded_as_inconsistent():
    _reader, records = read_all("mutect2_paired.vcf")
    broken = [record for record in records if record.pos == 25245360]
    assert [record.alt for record in broken] == ["T", "C"]
    assert all("FORMAT/AD has 2 value(s) (480,20)" in record.inconsistency for record in broken)
    assert all("Number=R wants 3" in record.inconsistency for record in broken)
    assert all(record.alt_reads is None for record in broken)


def test_caller_override_changes_how_vaf_is_taken():
    _reader, records = read_all("mutect2_paired.vcf", caller="generic")
    kras = by_allele(records)[(25245350, "A")]
    assert kras.caller == "generic"
    assert kras.vaf == pytest.approx(100 / 1010)  # computed, not FORMAT/AF's 0.1


def test_vardict_paired_without_source_line_reads_first_column_as_tumour():
    reader, records = read_all("vardict_paired.vcf")
    assert reader.dialect == "vardict"  # from FORMAT/VD, there is no ##source
    assert reader.sample == "P1_plasma"
    assert reader.build is None
    assert reader.contig_style == "nochr"
    snv, inversion = records
    assert (snv.depth, snv.alt_reads, snv.vaf) == (2000, 40, 0.02)
    assert inversion.alt == "<INV>" and "symbolic" in inversion.problem


def test_strelka2_snv_counts_come_from_tier1_base_counts():
    reader, records = read_all("strelka2_snvs.vcf")
    assert (reader.dialect, reader.sample, reader.build) == ("strelka2", "TUMOR", "GRCh38")
    alleles = by_allele(records)
    braf = alleles[(140753336, "T")]
    assert (braf.depth, braf.alt_reads) == (200, 19)  # 180 A + 1 G + 19 T, tier 1 only
    assert braf.vaf == pytest.approx(19 / 200)
    a_allele, t_allele = alleles[(25245350, "A")], alleles[(25245350, "T")]
    assert (a_allele.depth, a_allele.alt_reads, a_allele.vaf) == (100, 10, 0.1)
    assert (t_allele.depth, t_allele.alt_reads, t_allele.vaf) == (100, 5, 0.05)
    assert t_allele.filters == ("LowEVS",)


def test_strelka2_indel_depth_is_tar_plus_tir():
    reader, (record,) = read_all("strelka2_indels.vcf")
    assert reader.dialect == "strelka2"
    assert (record.depth, record.alt_reads, record.vaf) == (300, 30, 0.1)


def test_lofreq_sites_only_reads_info_counts():
    reader, records = read_all("lofreq_sites_only.vcf")
    assert (reader.dialect, reader.sample, reader.samples) == ("lofreq", None, [])
    first, second = records
    assert (first.depth, first.alt_reads, first.vaf) == (1000, 12, 0.012)
    assert (second.depth, second.alt_reads, second.vaf) == (990, 1, 0.001)
    assert first.filters == () and second.filters == ("min_snvqual_38",)


def test_varscan2_freq_percent_string_and_slash_alleles():
    reader, (record, slashed) = read_all("varscan2_somatic.vcf")
    assert (reader.dialect, reader.sample) == ("varscan2", "TUMOR")
    assert (record.depth, record.alt_reads, record.vaf) == (800, 100, 0.125)
    assert slashed.alt == "A/T" and "'/'" in slashed.problem


def test_bcftools_ad_and_dv_records():
    reader, records = read_all("bcftools_call.vcf")
    assert (reader.dialect, reader.sample, reader.build) == ("bcftools", "PLASMA", "GRCh38")
    alleles = by_allele(records)
    assert (alleles[(25245350, "A")].depth, alleles[(25245350, "A")].alt_reads) == (100, 10)
    assert alleles[(25245350, "A")].vaf == 0.1
    first, second = alleles[(25245347, "A")], alleles[(25245347, "T")]
    assert (first.depth, first.alt_reads, first.vaf) == (100, 15, 0.15)
    assert (second.depth, second.alt_reads, second.vaf) == (100, 5, 0.05)
    only_dv = alleles[(25245380, "T")]
    assert (only_dv.depth, only_dv.alt_reads, only_dv.vaf) == (50, 5, 0.1)


def test_freebayes_counts_from_ro_ao_not_info_af():
    reader, records = read_all("freebayes.vcf")
    assert (reader.dialect, reader.build) == ("freebayes", "GRCh37")
    alleles = by_allele(records)
    first, second = alleles[(25398281, "A")], alleles[(25398281, "T")]
    assert (first.depth, first.alt_reads, first.vaf) == (100, 30, 0.3)  # INFO AF says 0.5
    assert (second.depth, second.alt_reads, second.vaf) == (100, 10, 0.1)
    single = alleles[(25398284, "T")]
    assert (single.depth, single.alt_reads, single.vaf) == (100, 20, 0.2)
    violating = [alleles[(25398290, "A")], alleles[(25398290, "T")]]
    assert all("Number=A wants 2" in record.inconsistency for record in violating)


def test_generic_counts_and_unassessable_records_are_kept():
    reader, records = read_all("generic.vcf")
    assert (reader.dialect, reader.sample, reader.build) == ("generic", "plasma", "GRCh37")
    assert reader.contig_style == "nochr"
    assert reader.records_read == 5
    assert [(record.pos, record.alt) for record in records] == [
        (25398284, "T"),
        (25398290, "."),
        (25398300, "<DEL>"),
        (25398310, "G"),
        (25398310, "*"),
        (25398320, "C"),
    ]
    snv, empty_alt, symbolic, g_allele, star, no_counts = records
    assert (snv.depth, snv.alt_reads, snv.vaf) == (101, 5, pytest.approx(5 / 101))
    assert snv.problem is None
    assert "no ALT" in empty_alt.problem
    assert "symbolic" in symbolic.problem
    assert (g_allele.alt_reads, g_allele.depth, g_allele.problem) == (12, 100, None)
    assert "spanning-deletion" in star.problem
    assert "FORMAT/AD" in no_counts.problem and no_counts.alt_reads is None
    assert [record.record_no for record in records] == [1, 2, 3, 4, 4, 5]


def test_chr_and_nochr_contigs_normalise_to_the_same_chrom():
    _reader, chr_records = read_all("strelka2_snvs.vcf")
    _reader, nochr_records = read_all("generic.vcf")
    assert chr_records[1].raw_chrom == "chr12" and nochr_records[0].raw_chrom == "12"
    assert chr_records[1].chrom == nochr_records[0].chrom == "12"


def test_vep_csq_annotations_per_allele():
    _reader, records = read_all("vep_csq.vcf")
    alleles = by_allele(records)
    g12v, g12d = alleles[(25245350, "A")], alleles[(25245350, "T")]
    assert [(a.gene, a.hgvsp) for a in g12v.annotations] == [
        ("KRAS", "ENSP00000256078.5:p.Gly12Val")
    ]
    assert [a.hgvsp for a in g12d.annotations] == ["ENSP00000256078.5:p.Gly12Asp"]
    assert g12v.annotations[0].transcript == "ENST00000256078.10"
    assert g12v.annotations[0].consequence == "missense_variant"
    assert g12v.annotations[0].source == "CSQ"
    deletion = alleles[(55174772, "G")]  # VEP allele '-'
    assert [a.hgvsc for a in deletion.annotations] == ["ENST00000275493.7:c.2235_2249del"]
    insertion = alleles[(55181370, "CGGT")]  # VEP allele 'GGT', two transcripts
    assert [a.gene for a in insertion.annotations] == ["EGFR", "LANCL2"]
    assert insertion.annotations[1].hgvsp == ""
    synonymous = alleles[(55191822, "G")]
    assert synonymous.annotations[0].hgvsp == "ENSP00000275493.2:p.Leu836="  # %3D decoded


def test_snpeff_ann_annotations_per_allele():
    _reader, records = read_all("snpeff_ann.vcf")
    alleles = by_allele(records)
    v600e, v600g = alleles[(140453136, "T")], alleles[(140453136, "C")]
    assert [(a.gene, a.hgvsc, a.hgvsp) for a in v600e.annotations] == [
        ("BRAF", "c.1799T>A", "p.Val600Glu")
    ]
    assert [a.hgvsp for a in v600g.annotations] == ["p.Val600Gly"]
    assert v600e.annotations[0].transcript == "ENST00000288602.6"
    assert v600e.annotations[0].source == "ANN"
    assert (v600e.alt_reads, v600g.alt_reads) == (100, 20)
    deletion = alleles[(55242465, "G")]
    assert [a.consequence for a in deletion.annotations] == ["disruptive_inframe_deletion"]


def test_indexed_region_read_returns_only_those_records_once(tmp_path):
    copy = tmp_path / "mutect2_paired.vcf"
    shutil.copy(DATA / "mutect2_paired.vcf", copy)
    indexed = pysam.tabix_index(str(copy), preset="vcf", force=True)
    # Two overlapping regions around KRAS, given in the panel's no-'chr' style.
    regions = [("12", 25245340, 25245348), ("12", 25245345, 25245355)]
    with open_vcf(indexed, regions=regions) as reader:
        assert reader.used_index is True
        records = list(reader)
        assert reader.records_read == 2
    assert [(record.pos, record.alt) for record in records] == [
        (25245347, "A"),
        (25245347, "T"),
        (25245350, "A"),
    ]


def test_regions_without_index_are_scanned_for_panel_positions():
    with open_vcf(DATA / "mutect2_paired.vcf", regions=[("12", 25245340, 25245348)]) as reader:
        records = list(reader)
        assert reader.used_index is False and reader.read_mode == "regions_scan"
    # the multi-allelic record 2 is inside the region, split into its two ALT alleles; record_no
    # stays the record's place among all data lines of the file
    assert [(r.record_no, r.pos, r.alt) for r in records] == [
        (2, 25245347, "A"),
        (2, 25245347, "T"),
    ]


def test_build_mismatch_is_refused_with_both_builds_named():
    with pytest.raises(InputError) as caught:
        open_vcf(DATA / "mutect2_paired.vcf", expected_build="GRCh37")
    message = str(caught.value)
    assert "mutect2_paired.vcf" in message
    assert "GRCh38" in message and "GRCh37" in message
    with open_vcf(DATA / "mutect2_paired.vcf", expected_build="GRCh38") as reader:
        assert reader.build == "GRCh38"
    with open_vcf(DATA / "vardict_paired.vcf", expected_build="GRCh38") as reader:
        assert reader.build is None  # unknown build is allowed


def test_header_without_read_counts_is_refused():
    with pytest.raises(InputError) as caught:
        open_vcf(DATA / "no_read_counts.vcf")
    assert "no_read_counts.vcf" in str(caught.value)
    assert "FORMAT/AD" in str(caught.value)


def test_sample_choice_errors_list_the_columns():
    with pytest.raises(InputError) as caught:
        open_vcf(DATA / "mutect2_paired.vcf", sample="PLASMA9")
    assert "WBC1, PLASMA1" in str(caught.value)
    with open_vcf(DATA / "mutect2_paired.vcf", sample="WBC1") as reader:
        kras = by_allele(reader)[(25245350, "A")]
    assert (kras.depth, kras.alt_reads) == (990, 0)


def test_ambiguous_sample_asks_for_vcf_sample(tmp_path):
    text = (DATA / "bcftools_call.vcf").read_text()
    text = text.replace("\tPLASMA\n", "\tS1\tS2\n").replace(":90,10\n", ":90,10\t0/0:.:100:100,0\n")
    path = tmp_path / "two_samples.vcf"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        open_vcf(path)
    assert "two_samples.vcf" in str(caught.value) and "vcf_sample" in str(caught.value)
    assert "S1, S2" in str(caught.value)


def test_unknown_caller_is_refused():
    with pytest.raises(InputError, match="unknown caller"):
        open_vcf(DATA / "generic.vcf", caller="mystery")


def test_missing_and_non_vcf_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="not found"):
        open_vcf(tmp_path / "absent.vcf")
    text_file = tmp_path / "calls.vcf"
    text_file.write_text("gene\tvaf\nKRAS\t0.1\n")
    with pytest.raises(InputError) as caught:
        open_vcf(text_file)
    assert "calls.vcf" in str(caught.value)


def test_malformed_data_line_raises_input_error_with_record_number(tmp_path):
    text = (DATA / "generic.vcf").read_text() + "12\n"
    path = tmp_path / "truncated_line.vcf"
    path.write_text(text)
    with open_vcf(path) as reader, pytest.raises(InputError) as caught:
        list(reader)
    assert "truncated_line.vcf:6" in str(caught.value)


def test_trailing_blank_line_is_not_a_record(tmp_path):
    path = tmp_path / "blank.vcf"
    path.write_text((DATA / "strelka2_indels.vcf").read_text() + "\n")
    with open_vcf(path) as reader:
        assert len(list(reader)) == 1
        assert reader.records_read == 1


@pytest.mark.parametrize(
    ("header", "dialect"),
    [
        ('##SentieonCommandLine.TNscope=<ID=TNscope,Version="202308">\n', "mutect2"),
        ("##Mutect Version=2.1\n", "mutect2"),
        ("##MutectVersion=2.2\n", "mutect2"),
        ("##source=strelka\n", "strelka2"),
        ("##content=strelka somatic indel calls\n", "strelka2"),
        ("##source=VarDict_v1.8.2\n", "vardict"),
        ("##source=lofreq call -f ref.fa\n", "lofreq"),
        ("##source=VarScan2\n", "varscan2"),
        ("##source=freeBayes v1.3.6\n", "freebayes"),
        ("##bcftools_callVersion=1.17\n", "bcftools"),
        ("##samtoolsVersion=1.1\n", "bcftools"),
        ("##bcftools_viewVersion=1.15\n", "generic"),  # a post-processing step, not a caller
        ("##source=mycaller\n", "generic"),
    ],
)
def test_detect_dialect_from_header_markers(header, dialect):
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    assert detect_dialect("##fileformat=VCFv4.2\n" + header + columns) == dialect


@pytest.mark.parametrize(
    ("header", "build"),
    [
        ("##contig=<ID=chr1,length=248956422>\n", "GRCh38"),
        ("##contig=<ID=1,length=249250621>\n", "GRCh37"),
        ("##contig=<ID=chr17,length=83257441>\n", "GRCh38"),
        ("##contig=<ID=MT,length=16569>\n", None),  # rCRS: the same in b37 and GRCh38
        ("##reference=file:///refs/ucsc.hg19.fasta\n", "GRCh37"),
        ("##reference=file:///refs/human_g1k_v37_decoy.fasta\n", "GRCh37"),
        ("##reference=file:///refs/Homo_sapiens_assembly38.fasta\n", "GRCh38"),
        ("##reference=file:///6416803d0b37e38b/tiny.fa\n", None),  # 'b37' inside a hash
        ("##contig=<ID=1,length=300000>\n##reference=tiny.fa\n", None),
    ],
)
def test_detect_build(header, build):
    assert detect_build("##fileformat=VCFv4.2\n" + header) == build
