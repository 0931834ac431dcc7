"""Every real caller VCF in ../shared/data is either read or refused with a message naming it.

The expectations were worked out by reading each file: `sample` is the tumour column, `build` what
the header itself says (None where SOURCES.tsv knows the build only from outside the file), and
`spot` one allele's counts checked by hand: (pos, alt, depth, alt_reads, vaf).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.vcf import open_vcf

SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"
VCF_DIR = SHARED_DATA / "vcf"
CNVKIT_VCFS = ("strelka.vcf", "gatk-emptyalt.vcf", "nosample.vcf", "vcf-het-no-altcount.vcf")

READ = {
    "mutect2__gatk__filtering_NA12878.vcf": dict(
        dialect="mutect2", sample="SM-612V3", build="GRCh37",
        spot=(116381121, "GTT", 138, 25, 0.177),  # MET STR, 3rd of 4 ALTs
    ),
    "mutect2__gatk__many-allelic-somatic.vcf": dict(
        dialect="mutect2", sample="TUMOR", build="GRCh37",
        spot=(8934636, "CAAAAAAAA", 130, 11, 0.084),  # 9th of 9 ALTs
    ),
    "mutect2__gatk__validation_mc3_M2.vcf": dict(
        # NORMAL (first column) carries the alt reads here; ##tumor_sample says TUMOR.
        dialect="mutect2", sample="TUMOR", build="GRCh37", spot=(6592792, "A", 88, 0, 0.019),
    ),
    "mutect2__somaticseq__paired_MuTect2.vcf.gz": dict(
        dialect="mutect2", sample="TUMOR", build=None, spot=(8450, "G", 44, 44, 0.978),
    ),
    "mutect2__somaticseq__tumor_only_MuTect2.vcf.gz": dict(
        dialect="mutect2", sample="TUMOR", build=None, spot=(8450, "G", 44, 44, 0.989),
    ),
    "vardict__VarDictJava__vardict.simple.vcf": dict(
        dialect="vardict", sample="abc", build=None, spot=(69302, "T", 611, 3, 0.0049),
    ),
    "vardict__somaticseq__paired_VarDict.vcf.gz": dict(
        dialect="vardict", sample="TUMOR", build=None, spot=(8450, "G", 44, 44, 1.0),
    ),
    "strelka2__strelka__demo_somatic.snvs.vcf.gz": dict(
        dialect="strelka2", sample="TUMOR", build=None, spot=(991, "G", 10, 5, 0.5),
    ),
    "strelka2__strelka__demo_somatic.indels.vcf.gz": dict(
        dialect="strelka2", sample="TUMOR", build=None, spot=(1148, "CTAT", 19, 8, 8 / 19),
    ),
    "strelka2__vstol__hg002_hg001_strelka2_snvs.vcf": dict(
        dialect="strelka2", sample="TUMOR", build="GRCh38", spot=(715769, "T", 2, 2, 1.0),
    ),
    "strelka2__vstol__hg002_hg001_strelka2_indels.vcf": dict(
        dialect="strelka2", sample="TUMOR", build="GRCh38", spot=(16721868, "G", 6, 6, 1.0),
    ),
    "strelka2__vstol__hcc1395_strelka2_indels.chr1.vcf.gz": dict(
        dialect="strelka2", sample="TUMOR", build="GRCh38", spot=(99066, "T", 40, 10, 0.25),
    ),
    "strelka2__somaticseq__paired_Strelka.snv.vcf.gz": dict(
        dialect="strelka2", sample="TUMOR", build=None, spot=(947, "A", 47, 1, 1 / 47),
    ),
    "strelka1__Jacquard__case_A.strelka.snvs.vcf": dict(
        dialect="strelka2", sample="TUMOR", build="GRCh37",
        spot=(37836634, "T", 3, 2, 2 / 3),  # A>C,T: tier-1 AU 0 CU 1 GU 0 TU 2
    ),
    "lofreq__somaticseq__LoFreq.snv.vcf.gz": dict(
        dialect="lofreq", sample=None, build=None, spot=(8450, "G", 44, 44, 1.0),
    ),
    "lofreq__tools-iuc__call-out1.vcf": dict(
        dialect="lofreq", sample=None, build=None, spot=(1134, "T", 1767, 1767, 1.0),
    ),
    "lofreq__tools-iuc__indel-call-out.vcf": dict(
        dialect="lofreq", sample=None, build=None, spot=(725, "GN", 46, 1, 0.021739),
    ),
    "varscan2__Jacquard__case_A.varscan.indel.vcf": dict(
        dialect="varscan2", sample="TUMOR", build=None, spot=(705207, "C", 54, 12, 0.2449),
    ),
    "varscan2__vcf2maf__test_varscan.vcf": dict(
        dialect="varscan2", sample="TUMOR", build=None, spot=(1991014, "G", 91, 35, 0.3846),
    ),
    "freebayes__freebayes__tiny_chr22_full.vcf": dict(
        dialect="freebayes", sample="1", build=None, spot=(186, "C", 41, 16, 16 / 41),
    ),
    "freebayes__bcbio.variation__freebayes-calls.vcf": dict(
        dialect="freebayes", sample="Test1", build="GRCh37",  # hg19 chrM length 16571
        spot=(150, "CCC", 469, 469, 1.0),
    ),
    "tnscope__BALSAMIC__S1_R_TNscope.vcf.gz": dict(
        dialect="mutect2", sample="S1_R", build="GRCh37", spot=(17026004, "G", 24, 24, 1.0),
    ),
    "tnscope__BALSAMIC__tnscope_variants.vcf.gz": dict(
        dialect="mutect2", sample="TUMOR", build="GRCh37",
        spot=(934893, "A", 953, 5, 0.00524659),
    ),
    "strelka.vcf": dict(
        dialect="strelka2", sample="TUMOR", build=None, spot=(221367, "C", 33, 16, 16 / 33),
        n_records=3,  # cnvkit/ files are not in vcf/SOURCES.tsv; counted by hand
    ),
    "gatk-emptyalt.vcf": dict(
        dialect="generic", sample="sample1", build="GRCh37", spot=(49515, ".", None, None, None),
        n_records=1,
    ),
}  # fmt: skip

# Refused files: the words the one-line message must contain besides the file name.
REFUSED = {
    "bcftools-call__bcftools__mpileup.1.out.vcf": "vcf_sample",  # 3 samples, no tumour marked
    "bcftools-call__bcftools__mpileup.cAls.out.vcf": "vcf_sample",
    "nosample.vcf": "no sample columns",  # sites-only with INFO/DP but no allele counts
    "vcf-het-no-altcount.vcf": "FORMAT/AD",  # GT:DP only: nothing counts alt reads
}


def _sources() -> dict[str, dict[str, str]]:
    with open(VCF_DIR / "SOURCES.tsv", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


def _all_files() -> list[Path]:
    if not VCF_DIR.is_dir():
        return []
    files = sorted(path for path in VCF_DIR.iterdir() if ".vcf" in path.name)
    return files + [SHARED_DATA / "cnvkit" / name for name in CNVKIT_VCFS]


pytestmark = pytest.mark.skipif(not VCF_DIR.is_dir(), reason=f"{VCF_DIR} not present")


def test_every_real_file_has_an_expectation():
    names = {path.name for path in _all_files()}
    assert names == set(READ) | set(REFUSED)


@pytest.mark.parametrize("path", _all_files(), ids=lambda path: path.name)
def test_real_file_is_read_or_refused(path: Path):
    if path.name in REFUSED:
        with pytest.raises(InputError) as caught, open_vcf(path) as reader:
            list(reader)
        message = str(caught.value)
        assert str(path) in message and "\n" not in message
        assert REFUSED[path.name] in message
        return

    expected = READ[path.name]
    with open_vcf(path) as reader:
        records = list(reader)
        assert reader.dialect == expected["dialect"]
        assert reader.sample == expected["sample"]
        assert reader.build == expected["build"]
        n_records = expected.get("n_records") or int(_sources()[path.name]["n_records"])
        assert reader.records_read == n_records
    # Every data line yields at least one record (one per ALT); nothing is dropped.
    assert len({record.record_no for record in records}) == n_records

    pos, alt, depth, alt_reads, vaf = expected["spot"]
    (record,) = [record for record in records if (record.pos, record.alt) == (pos, alt)]
    assert (record.depth, record.alt_reads) == (depth, alt_reads)
    if vaf is None:
        assert record.vaf is None and record.problem
    else:
        assert record.vaf == pytest.approx(vaf, rel=1e-6)
        assert record.problem is None


def test_real_multi_sample_bcftools_file_is_read_once_the_sample_is_named():
    path = VCF_DIR / "bcftools-call__bcftools__mpileup.1.out.vcf"
    with open_vcf(path, sample="HG00101") as reader:
        records = list(reader)
        assert (reader.dialect, reader.build, reader.records_read) == ("bcftools", "GRCh37", 11)
    first = records[0]
    assert (first.pos, first.ref, first.alt) == (302, "T", "TA")
    assert (first.depth, first.alt_reads) == (7, 6)  # FORMAT DP/DV of HG00101


def test_real_number_a_violation_is_flagged_not_crashed():
    path = VCF_DIR / "freebayes__bcbio.variation__freebayes-calls.vcf"
    with open_vcf(path) as reader:
        site = [record for record in reader if record.pos == 73]
    assert [record.alt for record in site] == ["A", "T"]
    assert all("FORMAT/AO has 1 value(s) (458)" in record.inconsistency for record in site)
    assert all("Number=A wants 2" in record.inconsistency for record in site)


def test_real_varscan_slash_alleles_are_flagged():
    path = VCF_DIR / "varscan2__Jacquard__case_A.varscan.indel.vcf"
    with open_vcf(path) as reader:
        flagged = [record for record in reader if record.problem]
    assert len(flagged) == 343  # SOURCES.tsv: 162 with '/' in REF + 181 with '/' in ALT
    assert all("/" in record.ref + record.alt for record in flagged)


def test_real_tnscope_tumour_column_from_sentieon_command_line():
    path = VCF_DIR / "tnscope__BALSAMIC__tnscope_variants.vcf.gz"
    with open_vcf(path) as reader:
        assert reader.samples == ["TUMOR", "NORMAL"]
        assert reader.sample == "TUMOR"
