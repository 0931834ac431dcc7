"""Property-based tests (hypothesis) of the non-VCF readers: CNVkit .cns, generic SEG, the SV VCF
reader and the coverage reader (samtools depth).

Random valid records written to a file read back as the same normalised records; random
corruptions of a valid file (cut short, a byte changed, a field dropped) are either still read or
refused with the product's InputError, never another exception.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from corruptions import corruption
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.copy_number import read_copy_number
from ctdna_resistance.io.coverage import read_depths
from ctdna_resistance.io.sv_vcf import read_sv_vcf

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CHR12 = 133_275_309  # GRCh38


@st.composite
def segments(draw):
    """Non-overlapping 1-based inclusive segments on chromosome 12 with 4-decimal log2 values."""
    cuts = draw(st.lists(st.integers(1, CHR12), min_size=2, max_size=12, unique=True))
    cuts.sort()
    rows = []
    for start, end in zip(cuts[:-1:2], cuts[1::2], strict=False):
        log2 = draw(st.integers(-40_000, 40_000)) / 10_000
        rows.append((start, end, log2))
    return rows


def _write(folder: str, name: str, data: bytes) -> Path:
    path = Path(folder) / name
    path.write_bytes(data)
    return path


def _cns(rows, chrom="chr12") -> bytes:
    lines = ["chromosome\tstart\tend\tgene\tlog2\tdepth\tprobes\tweight"]
    # CNVkit rows are 0-based, end-exclusive
    lines += [f"{chrom}\t{s - 1}\t{e}\t-\t{v}\t1.0\t10\t8.0" for s, e, v in rows]
    return ("\n".join(lines) + "\n").encode()


def _seg(rows, chrom="12") -> bytes:
    lines = ["ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean"]
    lines += [f"S1\t{chrom}\t{s}\t{e}\t10\t{v}" for s, e, v in rows]
    return ("\n".join(lines) + "\n").encode()


def _normalised(result) -> list[tuple]:
    return [(s.chrom, s.start, s.end, round(s.log2, 4)) for s in result.segments]


@pytest.mark.parametrize(
    "name, writer, fmt", [("s.cns", _cns, "cnvkit_cns"), ("s.seg", _seg, "seg")]
)
@SETTINGS
@given(rows=segments(), chrom=st.sampled_from(["12", "chr12"]))
def test_segment_files_round_trip(name, writer, fmt, rows, chrom):
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, name, writer(rows, chrom))
        result = read_copy_number(path, expected_build="GRCh38")
    assert result.fmt == fmt
    assert _normalised(result) == [("12", s, e, v) for s, e, v in rows]


@st.composite
def sv_records(draw):
    """Deletions/duplications/inversions on chromosome 12 as (type, pos, end)."""
    n = draw(st.integers(1, 8))
    records = []
    for _ in range(n):
        pos = draw(st.integers(1, CHR12 - 2))
        end = draw(st.integers(pos + 1, min(CHR12, pos + 5_000_000)))
        records.append((draw(st.sampled_from(["DEL", "DUP", "INV"])), pos, end))
    return sorted(records, key=lambda r: (r[1], r[2]))


def _sv_vcf(records) -> bytes:
    lines = [
        "##fileformat=VCFv4.2",
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type">',
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End">',
        "##contig=<ID=chr12,length=133275309>",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    lines += [
        f"chr12\t{pos}\tsv{i}\tN\t<{kind}>\t.\tPASS\tSVTYPE={kind};END={end}"
        for i, (kind, pos, end) in enumerate(records)
    ]
    return ("\n".join(lines) + "\n").encode()


@SETTINGS
@given(records=sv_records())
def test_sv_vcf_round_trip(records):
    with tempfile.TemporaryDirectory() as folder:
        result = read_sv_vcf(_write(folder, "sv.vcf", _sv_vcf(records)), expected_build="GRCh38")
    assert result.records_read == len(records)
    got = [(e.sv_type, e.a.chrom, e.a.pos, e.b.chrom, e.b.pos, e.problem) for e in result.events]
    assert got == [(kind, "12", pos, "12", end, None) for kind, pos, end in records]


@st.composite
def depth_rows(draw):
    positions = sorted(draw(st.lists(st.integers(1, 10_000), min_size=1, max_size=30, unique=True)))
    return [(p, draw(st.integers(0, 50_000))) for p in positions]


def _depth(rows) -> bytes:
    return "".join(f"chr12\t{p}\t{d}\n" for p, d in rows).encode()


@SETTINGS
@given(rows=depth_rows(), extra=st.integers(10_001, 20_000))
def test_samtools_depth_round_trip(rows, extra):
    sites = [("12", p) for p, _ in rows] + [("12", extra)]
    with tempfile.TemporaryDirectory() as folder:
        depths = read_depths(_write(folder, "s.depth.txt", _depth(rows)), sites)
    expected = {("12", p): d for p, d in rows}
    expected[("12", extra)] = None  # a position samtools depth did not write is unknown
    assert depths == expected


# -- corruptions ---------------------------------------------------------------------------------


def _only_input_errors(read) -> None:
    try:
        read()
    except InputError as error:
        assert "\n" not in error.message  # one line
        assert error.message.strip()


GOOD_SEGMENTS = [(1, 25_000_000, 0.01), (25_000_001, 26_000_000, 1.2), (26_000_001, CHR12, -0.3)]


@SETTINGS
@given(data=st.data(), kind=st.sampled_from(["s.cns", "s.seg"]))
def test_copy_number_corruptions_raise_only_input_error(data, kind):
    good = _cns(GOOD_SEGMENTS) if kind == "s.cns" else _seg(GOOD_SEGMENTS)
    bad = data.draw(corruption(good))
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, kind, bad)
        _only_input_errors(lambda: read_copy_number(path, expected_build="GRCh38"))


@SETTINGS
@given(data=st.data())
def test_sv_vcf_corruptions_raise_only_input_error(data):
    good = _sv_vcf([("DEL", 1000, 5000), ("DUP", 25_000_000, 25_400_000), ("INV", 9000, 90_000)])
    bad = data.draw(corruption(good))
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "sv.vcf", bad)
        _only_input_errors(lambda: read_sv_vcf(path, expected_build="GRCh38"))


@SETTINGS
@given(data=st.data())
def test_coverage_corruptions_raise_only_input_error(data):
    good = _depth([(100, 10), (101, 12), (250, 0), (9000, 4000)])
    bad = data.draw(corruption(good))
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "s.depth.txt", bad)
        _only_input_errors(lambda: read_depths(path, [("12", 101), ("12", 9000)]))
