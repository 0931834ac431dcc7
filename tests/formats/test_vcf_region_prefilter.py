"""Panel-region reads of a VCF without an index (byte-level pre-filter) against the indexed read.

Every file is written here, in three forms: plain text, bgzipped without an index and bgzipped
with a tabix index (pysam). Each data line carries its expected fate in the ID column ('k...' =
overlaps a region, 'd...' = does not), so the whole-file read filtered by ID is the oracle for
record values and for ``record_no`` (the line's ordinal among the file's data lines).
"""

from __future__ import annotations

import dataclasses
import gzip
import random
import shutil
from pathlib import Path

import pysam
import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.io import vcf_prefilter
from ctdna_resistance.io.vcf import open_vcf
from ctdna_resistance.io.vcf_prefilter import overlaps_regions

HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --tumor-sample PLASMA",Version="4.5.0.0">
##INFO=<ID=END,Number=1,Type=Integer,Description="End position">
##INFO=<ID=SVEND,Number=1,Type=Integer,Description="Not END: must not stretch the record">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Read depth">
##contig=<ID={p}1,length=248956422>
##contig=<ID={p}2,length=242193529>
##contig=<ID={p}12,length=133275309>
##tumor_sample=PLASMA
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPLASMA
"""

# Normalised contigs, as panel.regions() gives them: two adjacent and one overlapping region on
# 12 (merged into 1000-1300), a separate one at 1400-1500, a single base on 1 and a contig the
# file does not have.
REGIONS = [
    ("12", 1000, 1100),
    ("12", 1101, 1200),
    ("12", 1150, 1300),
    ("12", 1400, 1500),
    ("1", 5000, 5000),
    ("7", 10, 20),
]

# (contig, POS, ID, REF, ALT, INFO): 'k' = overlaps a region by the tabix rule, 'd' = does not.
RECORDS = [
    ("1", 4990, "k_del_ends_on_region", "A" * 11, "A", "DP=900"),  # 4990-5000
    ("1", 4999, "d_before_single_base", "C", "G", "DP=900"),
    ("1", 5000, "k_single_base", "A", "G", "DP=900"),
    ("1", 5001, "d_after_single_base", "A", "G", "DP=900"),
    ("2", 1050, "d_other_contig", "A", "G", "DP=900"),
    ("12", 500, "d_far_before", "A", "C", "DP=900"),
    ("12", 600, "k_info_end_reaches", "A", "<DEL>", "END=1005;DP=900"),
    ("12", 700, "d_svend_is_not_end", "A", "C", "SVEND=5000;DP=900"),
    ("12", 800, "d_end_before_pos_ignored", "A", "C", "END=700;DP=900"),
    ("12", 990, "d_del_ends_before", "ACGTACGTAC", "A", "DP=900"),  # 990-999
    ("12", 991, "k_del_reaches_start", "ACGTACGTAC", "A", "DP=900"),  # 991-1000
    ("12", 1000, "k_multiallelic", "C", "A,T", "DP=900"),
    ("12", 1100, "k_adjacent_a", "G", "T", "DP=900"),
    ("12", 1101, "k_adjacent_b", "G", "T", "DP=900"),
    ("12", 1250, "k_insertion", "T", "TA", "DP=900"),
    ("12", 1290, "k_spans_two_regions", "A" * 121, "A", "DP=900"),  # 1290-1410
    ("12", 1295, "k_del_across_end", "CAAAAAAA", "C", "DP=900"),  # 1295-1302
    ("12", 1300, "k_region_end", "C", "G", "DP=900"),
    ("12", 1301, "d_after_end", "C", "G", "DP=900"),
    ("12", 1399, "d_just_before_second", "C", "G", "DP=900"),
    ("12", 1500, "k_second_end", "C", "G", "DP=900"),
    ("12", 2000, "d_far_after", "A", "C", "DP=900"),
]


def _line(record: tuple, prefix: str) -> str:
    contig, pos, vid, ref, alt, info = record
    n_alts = alt.count(",") + 1
    ad = ",".join(["800"] + ["40"] * n_alts)
    af = ",".join(["0.0476"] * n_alts)
    sample = f"0/1:{ad}:{af}:900"
    return f"{prefix}{contig}\t{pos}\t{vid}\t{ref}\t{alt}\t.\tPASS\t{info}\tGT:AD:AF:DP\t{sample}\n"


def _filler(contig: str, start: int, count: int, step: int = 37) -> list[tuple]:
    """Records far from every region: many lines on one contig for the chunked fast path."""
    return [(contig, start + i * step, f"d_fill_{contig}_{i}", "A", "C", "DP=900")
            for i in range(count)]  # fmt: skip


def _records(with_filler: bool) -> list[tuple]:
    if not with_filler:
        return list(RECORDS)
    ones = [r for r in RECORDS if r[0] == "1"]
    twos = [r for r in RECORDS if r[0] == "2"]
    twelves = [r for r in RECORDS if r[0] == "12"]
    return (
        _filler("1", 10, 120)  # before the region on 1, far enough
        + ones
        + _filler("1", 20_000, 300)
        + twos
        + _filler("2", 2000, 300)
        + _filler("12", 1, 10, step=40)  # 1-361: before the first record on 12
        + twelves
        + _filler("12", 3000, 600)
        + _filler("12", 50_000, 600)
    )


def _write_forms(folder: Path, lines: list[str], prefix: str, *, index: bool) -> dict[str, Path]:
    """plain .vcf, .vcf.gz without an index beside it, and (if `index`) .vcf.gz + .tbi."""
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / "calls.vcf"
    plain.write_text(HEADER.replace("{p}", prefix) + "".join(lines), newline="\n")
    bgz = folder / "calls.vcf.gz"
    pysam.tabix_compress(str(plain), str(bgz), force=True)
    forms = {"plain": plain}
    no_index = folder / "no_index" / "calls.vcf.gz"
    no_index.parent.mkdir()
    shutil.copy(bgz, no_index)
    forms["no_index"] = no_index
    if index:
        pysam.tabix_index(str(bgz), preset="vcf", force=True)
        forms["indexed"] = bgz
    return forms


def _read(path: Path, regions=REGIONS) -> tuple[list, str]:
    with open_vcf(path, regions=regions, expected_build="GRCh38") as reader:
        records = list(reader)
        mode = reader.read_mode
    return records, mode


def _values(records: list, *, keep_record_no: bool = True) -> list:
    """Records without the file path (and without record_no when the index was used)."""
    return [
        dataclasses.replace(r, source="", record_no=r.record_no if keep_record_no else 0)
        for r in records
    ]


def _expected(path: Path) -> list:
    """The oracle: the whole-file read, the lines marked 'k' only."""
    with open_vcf(path, expected_build="GRCh38") as reader:
        return [r for r in reader if r.vcf_id.startswith("k")]


@pytest.mark.parametrize("prefix", ["chr", ""])
@pytest.mark.parametrize("with_filler", [False, True])
def test_three_forms_give_the_indexed_records(tmp_path, prefix, with_filler):
    lines = [_line(r, prefix) for r in _records(with_filler)]
    forms = _write_forms(tmp_path, lines, prefix, index=True)

    indexed, indexed_mode = _read(forms["indexed"])
    plain, plain_mode = _read(forms["plain"])
    no_index, no_index_mode = _read(forms["no_index"])

    assert (indexed_mode, plain_mode, no_index_mode) == (
        "regions_index",
        "regions_scan",
        "regions_scan",
    )
    expected_ids = [r[2] for r in RECORDS if r[2].startswith("k")]
    # the multi-allelic record gives one VariantRecord per ALT, each carrying its ALT index
    expected_ids.insert(expected_ids.index("k_multiallelic"), "k_multiallelic")
    assert [r.vcf_id for r in indexed] == expected_ids
    multi = [r for r in plain if r.vcf_id == "k_multiallelic"]
    assert [(r.alt, r.alt_index, r.n_alts) for r in multi] == [("A", 1, 2), ("T", 2, 2)]
    # identical records, in the same order, whichever form was read
    assert _values(plain) == _values(no_index)
    assert _values(plain, keep_record_no=False) == _values(indexed, keep_record_no=False)
    # and each one is what the whole-file read gives for that line, record_no included
    assert _values(plain) == _values(_expected(forms["plain"]))
    assert {r.raw_chrom for r in plain} == {f"{prefix}1", f"{prefix}12"}


def test_the_chunked_scan_equals_the_line_by_line_scan(tmp_path, monkeypatch):
    """Small chunks send most of them through the one-contig fast path (skip or near lines)."""
    lines = [_line(r, "chr") for r in _records(with_filler=True)]
    forms = _write_forms(tmp_path, lines, "chr", index=False)
    whole_chunk, _mode = _read(forms["no_index"])
    monkeypatch.setattr(vcf_prefilter, "NUMBERS_BATCH", 4)  # record numbers in many batches
    for chunk_bytes in (257, 1024, 8192):
        monkeypatch.setattr(vcf_prefilter, "CHUNK_BYTES", chunk_bytes)
        for form in ("plain", "no_index"):
            records, _mode = _read(forms[form])
            assert _values(records) == _values(whole_chunk), (form, chunk_bytes)
    assert _values(whole_chunk) == _values(_expected(forms["plain"]))


def test_unsorted_file_gives_the_same_records_in_file_order(tmp_path, monkeypatch):
    lines = [_line(r, "chr") for r in _records(with_filler=True)]
    random.Random(7).shuffle(lines)
    forms = _write_forms(tmp_path / "unsorted", lines, "chr", index=False)
    sorted_forms = _write_forms(
        tmp_path / "sorted", [_line(r, "chr") for r in _records(True)], "chr", index=True
    )
    indexed, _mode = _read(sorted_forms["indexed"])
    expected = _values(_expected(forms["plain"]))
    for chunk_bytes in (vcf_prefilter.CHUNK_BYTES, 512):
        monkeypatch.setattr(vcf_prefilter, "CHUNK_BYTES", chunk_bytes)
        plain, mode = _read(forms["plain"])
        no_index, _mode = _read(forms["no_index"])
        assert mode == "regions_scan"
        assert _values(plain) == _values(no_index) == expected
    key = lambda r: (r.vcf_id, r.alt_index)  # noqa: E731
    assert sorted(_values(plain, keep_record_no=False), key=key) == sorted(
        _values(indexed, keep_record_no=False), key=key
    )


def test_blank_line_and_a_missing_last_newline_keep_record_numbers(tmp_path):
    lines = [_line(r, "chr") for r in RECORDS]
    # (one: htslib 1.2x refuses a second empty line in a whole-file read, the oracle here)
    lines.insert(1, "\n")
    lf = tmp_path / "lf.vcf"
    lf.write_text((HEADER.replace("{p}", "chr") + "".join(lines)).rstrip("\n"), newline="\n")
    records, _mode = _read(lf)
    assert _values(records) == _values(_expected(lf))
    assert [r.record_no for r in records][:2] == [1, 3]  # the blank line is not a record
    with open_vcf(lf, regions=REGIONS) as reader:
        list(reader)
        assert (reader.blank_lines, reader.lines_scanned) == (1, len(RECORDS))


def test_crlf_file_gives_the_records_of_the_lf_file(tmp_path):
    text = HEADER.replace("{p}", "chr") + "".join(_line(r, "chr") for r in RECORDS)
    lf = tmp_path / "lf.vcf"
    lf.write_text(text, newline="\n")
    crlf = tmp_path / "crlf.vcf"
    crlf.write_bytes(text.replace("\n", "\r\n").encode())
    crlf_records, _mode = _read(crlf)
    assert crlf_records  # htslib drops the CR: INFO/FORMAT values parse as in the LF file
    assert _values(crlf_records) == _values(_read(lf)[0]) == _values(_expected(crlf))


def test_plain_gzip_not_bgzf_is_scanned_like_the_text(tmp_path):
    forms = _write_forms(tmp_path, [_line(r, "chr") for r in _records(True)], "chr", index=False)
    plain_gzip = tmp_path / "plain_gzip.vcf.gz"
    plain_gzip.write_bytes(gzip.compress(forms["plain"].read_bytes()))
    records, mode = _read(plain_gzip)
    assert mode == "regions_scan"
    assert _values(records) == _values(_read(forms["plain"])[0])


def test_a_bad_line_on_a_region_contig_is_reported_as_in_a_whole_file_read(tmp_path):
    lines = [_line(r, "chr") for r in RECORDS]
    lines.insert(12, _line(("12", "1005x", "k_bad_pos", "A", "C", "DP=900"), "chr"))
    path = tmp_path / "bad.vcf"
    path.write_text(HEADER.replace("{p}", "chr") + "".join(lines), newline="\n")
    with pytest.raises(InputError) as whole:
        list(open_vcf(path))
    with pytest.raises(InputError) as scanned:
        _read(path)
    line_no = HEADER.count("\n") + 13
    assert f"data record 13 (line {line_no} of the file)" in str(whole.value)
    assert str(scanned.value) == str(whole.value)


def test_header_only_file_gives_no_records_in_each_form(tmp_path):
    forms = _write_forms(tmp_path, [], "chr", index=True)
    for path in forms.values():
        records, _mode = _read(path)
        assert records == []


def test_bcf_without_index_is_read_whole(tmp_path):
    forms = _write_forms(tmp_path, [_line(r, "chr") for r in RECORDS], "chr", index=False)
    bcf = tmp_path / "calls.bcf"
    source = pysam.VariantFile(str(forms["plain"]))
    with source, pysam.VariantFile(str(bcf), "wb", header=source.header) as out:
        for record in source:
            out.write(record)
    records, mode = _read(bcf)
    assert mode == "whole_file"
    assert len({r.record_no for r in records}) == len(RECORDS)


def test_truncated_or_damaged_gzip_is_refused_naming_the_file(tmp_path):
    lines = [_line(r, "chr") for r in _records(with_filler=True)]
    forms = _write_forms(tmp_path, lines, "chr", index=False)
    data = forms["no_index"].read_bytes()
    no_eof = tmp_path / "no_eof.vcf.gz"
    no_eof.write_bytes(data[:-28])  # BGZF cut at a block boundary: only the EOF block is gone
    plain_gzip = tmp_path / "plain_gzip.vcf.gz"
    plain_gzip.write_bytes(gzip.compress(forms["plain"].read_bytes())[:-500])
    damaged = tmp_path / "damaged.vcf.gz"
    middle = len(data) // 2
    damaged.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64])
                        + data[middle + 64 :])  # fmt: skip
    for path in (no_eof, plain_gzip, damaged):
        with pytest.raises(InputError) as caught:
            _read(path)
        assert path.name in str(caught.value)
        assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"12\t991\t.\tACGTACGTAC\tA", True),  # 991-1000 reaches 1000
        (b"12\t990\t.\tACGTACGTAC\tA", False),  # ends at 999
        (b"12\t600\t.\tA\t<DEL>\t.\t.\tEND=1000", True),
        (b"12\t600\t.\tA\t<DEL>\t.\t.\tDP=3;END=999", False),
        (b"12\t600\t.\tA\t<DEL>\t.\t.\tSVEND=5000", False),
        (b"12\t600\t.\tA\t<DEL>\t.\t.\tSVEND=5000;END=0x3e8", True),  # strtol base 0: 1000
        (b"12\t1001\t.\tA\t<DEL>\t.\t.\tEND=5", True),  # END before POS is ignored
        (b"12\t1201\t.\tA\tC", False),
        (b"12\tnot-a-number\t.\tA\tC", True),  # kept so that htslib names the bad line
    ],
)
def test_overlap_rule_is_the_tabix_rule(line, expected):
    assert overlaps_regions(line, ((1000, 1200),)) is expected
