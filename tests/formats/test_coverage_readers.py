"""Depth at a position from mosdepth (real files in shared/data) and hand-written depth files."""

from __future__ import annotations

import gzip
import shutil

import pysam
import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.coverage import (
    PER_BASE,
    REGIONS,
    SAMTOOLS_DEPTH,
    detect_format,
    read_depths,
)


@pytest.fixture(scope="module")
def mosdepth(shared_data):
    return shared_data / "cnv-sv" / "mosdepth"


# --- real mosdepth files ------------------------------------------------------------------------


def test_regions_file_gives_the_mean_depth_of_the_region_holding_the_site(mosdepth):
    path = mosdepth / "full-wgs.regions.bed.gz"
    assert detect_format(path) == REGIONS
    # First region: "1 2488047 2488227 TNFRSF14 123.33" (0-based half-open -> 2488048..2488227).
    # An EGFR region "7 55209934 55210174 EGFR 112.93" (rounded to the nearest integer).
    sites = [("1", 2488047), ("1", 2488048), ("chr1", 2488227), ("1", 2488228), ("7", 55210000)]
    assert read_depths(path, sites) == {
        ("1", 2488047): None,
        ("1", 2488048): 123,
        ("chr1", 2488227): 123,
        ("1", 2488228): None,
        ("7", 55210000): 113,
    }


def test_near_empty_mosdepth_run_reads_as_zero_depth(mosdepth):
    depths = read_depths(mosdepth / "tiny.regions.bed.gz", [("1", 2488100), ("12", 1)])
    assert depths == {("1", 2488100): 0, ("12", 1): None}


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("tiny.thresholds.bed.gz", "thresholds file counts bases at or above each threshold"),
        ("shallow.mosdepth.summary.txt", "summary/distribution file holds per-contig statistics"),
        ("sample1.trim.mkD.amplicon.mosdepth.summary.txt", "summary/distribution file"),
        ("full_wgs.mosdepth.region.dist.txt", "summary/distribution file"),
    ],
)
def test_mosdepth_files_without_a_depth_are_refused_by_name(mosdepth, name, problem):
    with pytest.raises(InputError, match=problem) as error:
        read_depths(mosdepth / name, [("1", 1)])
    assert str(error.value).startswith(str(mosdepth / name))
    assert ".per-base.bed.gz or .regions.bed.gz" in str(error.value)


def test_renamed_thresholds_and_summary_files_are_refused_by_content(mosdepth, tmp_path):
    shutil.copy(mosdepth / "tiny.thresholds.bed.gz", tmp_path / "coverage.bed.gz")
    shutil.copy(mosdepth / "shallow.mosdepth.summary.txt", tmp_path / "coverage.txt")
    with pytest.raises(InputError, match=r"coverage\.bed\.gz:1: a mosdepth thresholds file"):
        read_depths(tmp_path / "coverage.bed.gz", [("1", 1)])
    with pytest.raises(InputError, match=r"coverage\.txt:1: a mosdepth summary"):
        read_depths(tmp_path / "coverage.txt", [("1", 1)])


def test_regions_file_read_through_a_tabix_index_gives_the_same_depths(mosdepth, tmp_path):
    copy = tmp_path / "full-wgs.regions.bed.gz"
    shutil.copy(mosdepth / "full-wgs.regions.bed.gz", copy)
    sites = [("1", 2488048), ("1", 2488228), ("7", 55210000), ("X", 5)]
    streamed = read_depths(copy, sites)
    pysam.tabix_index(str(copy), preset="bed", csi=True, force=True)
    assert (tmp_path / "full-wgs.regions.bed.gz.csi").exists()
    assert read_depths(copy, sites) == streamed


# --- hand-written files -------------------------------------------------------------------------

PER_BASE_ROWS = (
    "chr12\t0\t25245340\t0\nchr12\t25245340\t25245349\t812\nchr12\t25245349\t25245400\t790\n"
)


def _bgzip(tmp_path, name: str, text: str, *, index: str | None = None):
    plain = tmp_path / name.removesuffix(".gz")
    plain.write_text(text)
    path = pysam.tabix_compress(str(plain), str(tmp_path / name), force=True)
    del path
    if index == "bed":
        pysam.tabix_index(str(tmp_path / name), preset="bed", force=True)
    return tmp_path / name


@pytest.mark.parametrize("indexed", [False, True], ids=["streamed", "tabix"])
def test_mosdepth_per_base_gives_the_depth_of_the_run_holding_the_site(tmp_path, indexed):
    path = _bgzip(tmp_path, "P1.per-base.bed.gz", PER_BASE_ROWS, index="bed" if indexed else None)
    assert detect_format(path) == PER_BASE
    sites = [("12", 25245340), ("12", 25245341), ("12", 25245349), ("12", 25245350), ("1", 5)]
    assert read_depths(path, sites) == {
        ("12", 25245340): 0,
        ("12", 25245341): 812,
        ("12", 25245349): 812,
        ("12", 25245350): 790,
        ("1", 5): None,
    }


def test_per_base_content_is_recognised_without_the_mosdepth_name(tmp_path):
    path = tmp_path / "depth.bed"
    path.write_text(PER_BASE_ROWS)
    assert detect_format(path) == PER_BASE
    assert read_depths(path, [("12", 25245345)]) == {("12", 25245345): 812}


def test_samtools_depth_with_header_and_missing_positions(tmp_path):
    path = tmp_path / "P1.depth.txt"
    path.write_text("#CHROM\tPOS\tP1.bam\n12\t25245350\t1500\n12\t25245351\t1498\n")
    assert detect_format(path) == SAMTOOLS_DEPTH
    depths = read_depths(path, [("chr12", 25245350), ("12", 25245351), ("12", 25245352)])
    # samtools depth omits zero-depth positions unless run with -a: a missing position is unknown.
    assert depths == {("chr12", 25245350): 1500, ("12", 25245351): 1498, ("12", 25245352): None}


def test_samtools_depth_without_header_gzipped(tmp_path):
    path = tmp_path / "P1.depth.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("chr7\t140753336\t2210\n")
    assert read_depths(path, [("7", 140753336)]) == {("7", 140753336): 2210}


def test_samtools_depth_of_several_bams_is_refused(tmp_path):
    path = tmp_path / "two.depth.txt"
    path.write_text("#CHROM\tPOS\ta.bam\tb.bam\n12\t1\t5\t6\n")
    with pytest.raises(InputError, match=r"two\.depth\.txt:1: samtools depth output with 2 depth"):
        read_depths(path, [("12", 1)])


def test_malformed_line_names_the_line(tmp_path):
    path = tmp_path / "P1.depth.txt"
    path.write_text("12\t100\t50\n12\t101\tfifty\n")
    with pytest.raises(InputError, match=r"P1\.depth\.txt:2: malformed samtools depth line"):
        read_depths(path, [("12", 101)])


def test_other_tables_are_refused(tmp_path):
    table = tmp_path / "segments.tsv"
    table.write_text("12\t100\t200\tgain\tx\ty\n")
    with pytest.raises(InputError, match=r"segments\.tsv:1: not a depth file: 6 columns"):
        read_depths(table, [("12", 150)])
    path = tmp_path / "calls.vcf"
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\n12\t1\t.\tA\n")
    with pytest.raises(InputError, match=r"calls\.vcf:1: a VCF, not a depth file"):
        read_depths(path, [("12", 1)])


def test_missing_and_truncated_files_are_refused(tmp_path):
    with pytest.raises(InputError, match=r"nope\.per-base\.bed\.gz: coverage file not found"):
        read_depths(tmp_path / "nope.per-base.bed.gz", [("12", 1)])
    whole = _bgzip(tmp_path, "P1.per-base.bed.gz", PER_BASE_ROWS * 200)
    truncated = tmp_path / "cut.per-base.bed.gz"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(InputError, match=r"cut\.per-base\.bed\.gz: cannot read it"):
        read_depths(truncated, [("12", 25245341)])
