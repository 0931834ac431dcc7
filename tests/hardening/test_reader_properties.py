"""Property tests of the small-variant VCF reader: random valid records of each dialect read back
to the counts that were written; random corruptions of a valid file end in InputError or in
records carrying a `problem`, never in any other exception."""

from __future__ import annotations

import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.vcf import open_vcf

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTIGS = "##contig=<ID=chr12,length=133275309>\n"
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
FMT = '##FORMAT=<ID={},Number={},Type={},Description="{}">\n'
HEADERS = {
    "mutect2": '##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --tumor-sample TUMOR">\n'
    '##INFO=<ID=TLOD,Number=A,Type=Float,Description="TLOD">\n'
    + FMT.format("AD", "R", "Integer", "AD")
    + FMT.format("AF", "A", "Float", "AF")
    + FMT.format("DP", "1", "Integer", "DP"),
    "vardict": "##source=VarDict_v1.8.3\n"
    + FMT.format("AD", "R", "Integer", "AD")
    + FMT.format("AF", "A", "Float", "AF")
    + FMT.format("DP", "1", "Integer", "DP"),
    "strelka2": "##source=strelka\n##content=strelka somatic snv calls\n"
    + FMT.format("DP", "1", "Integer", "DP")
    + "".join(FMT.format(f"{b}U", "2", "Integer", b) for b in "ACGT"),
    "varscan2": "##source=VarScan2\n"
    + FMT.format("RD", "1", "Integer", "RD")
    + FMT.format("AD", "1", "Integer", "AD")
    + FMT.format("DP", "1", "Integer", "DP")
    + FMT.format("FREQ", "1", "String", "FREQ"),
    "generic": FMT.format("AD", "R", "Integer", "AD") + FMT.format("DP", "1", "Integer", "DP"),
}
BASES = "ACGT"


@st.composite
def site(draw, dialect: str, pos: int):
    """One VCF data line of ``dialect`` and the (depth, alt_reads, vaf) expected per ALT."""
    ref = draw(st.sampled_from(BASES))
    max_alts = 1 if dialect == "varscan2" else 3
    alts = draw(
        st.lists(st.sampled_from([b for b in BASES if b != ref]), min_size=1, max_size=max_alts,
                 unique=True)
    )  # fmt: skip
    if dialect == "strelka2":
        tier1 = {b: draw(st.integers(0, 5000)) for b in BASES}
        tiers = ":".join(f"{tier1[b]},{tier1[b] + 1}" for b in BASES)
        depth = sum(tier1.values())
        expected = [(depth, tier1[a], tier1[a] / depth if depth else None) for a in alts]
        fields = f"DP:AU:CU:GU:TU\t{depth}:{tiers}"
    elif dialect == "varscan2":
        ref_reads, alt_reads = draw(st.integers(0, 5000)), draw(st.integers(0, 5000))
        depth = ref_reads + alt_reads + draw(st.integers(0, 50))
        freq = Decimal(alt_reads * 100) / depth if depth else Decimal(0)
        freq_text = f"{freq:.2f}%"
        expected = [(depth, alt_reads, float(Decimal(freq_text[:-1]) / 100))]
        fields = f"GT:RD:AD:DP:FREQ\t0/1:{ref_reads}:{alt_reads}:{depth}:{freq_text}"
    else:
        ad = [draw(st.integers(0, 5000)) for _ in range(len(alts) + 1)]
        depth = sum(ad) + draw(st.integers(0, 50))
        if dialect == "generic":
            expected = [(depth, a, a / depth if depth else None) for a in ad[1:]]
            fields = f"GT:AD:DP\t0/1:{','.join(map(str, ad))}:{depth}"
        else:
            afs = [round(a / depth, 3) if depth else 0.0 for a in ad[1:]]
            expected = [(depth, a, af) for a, af in zip(ad[1:], afs, strict=True)]
            fields = f"GT:AD:AF:DP\t0/1:{','.join(map(str, ad))}:{','.join(map(str, afs))}:{depth}"
    line = f"chr12\t{pos}\t.\t{ref}\t{','.join(alts)}\t.\tPASS\t.\t{fields}\n"
    return line, [(pos, ref, alt, *counts) for alt, counts in zip(alts, expected, strict=True)]


@st.composite
def vcf_file(draw):
    dialect = draw(st.sampled_from(sorted(HEADERS)))
    positions = sorted(draw(st.sets(st.integers(1_000_000, 1_000_500), min_size=1, max_size=6)))
    lines, expected = [], []
    for pos in positions:
        line, alleles = draw(site(dialect, pos))
        lines.append(line)
        expected.extend(alleles)
    text = "##fileformat=VCFv4.2\n" + HEADERS[dialect] + CONTIGS + COLUMNS + "".join(lines)
    return dialect, text, expected


def write(folder: Path, text: str, compress: bool) -> Path:
    path = folder / "calls.vcf"
    path.write_text(text)
    if compress:
        subprocess.run(["bgzip", "-f", str(path)], check=True)
        return folder / "calls.vcf.gz"
    return path


@SETTINGS
@given(vcf_file(), st.booleans())
def test_valid_records_read_back_to_the_counts_written(case, compress):
    dialect, text, expected = case
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), text, compress)
        with open_vcf(path, expected_build="GRCh38") as reader:
            assert reader.dialect == dialect
            records = list(reader)
    assert [r.problem for r in records] == [None] * len(expected)
    assert [r.inconsistency for r in records] == [None] * len(expected)
    got = [(r.pos, r.ref, r.alt, r.depth, r.alt_reads) for r in records]
    assert got == [e[:5] for e in expected]
    for record, (*_, vaf) in zip(records, expected, strict=True):
        if vaf is None:
            assert record.vaf is None
        else:
            assert abs(record.vaf - vaf) < 1e-9, (record, vaf)
    assert [r.n_alts for r in records] == [
        sum(1 for e in expected if e[0] == r.pos) for r in records
    ]


@st.composite
def corruption(draw):
    """(kind, position fraction, byte) for a truncation, a byte flip or a deleted tab."""
    kind = draw(st.sampled_from(["truncate", "flip", "delete_tab", "flip_compressed"]))
    return kind, draw(st.floats(0, 1)), draw(st.integers(0, 255))


def corrupt(data: bytes, kind: str, where: float, byte: int) -> bytes:
    index = min(len(data) - 1, int(where * len(data)))
    if kind == "truncate":
        return data[:index]
    if kind == "delete_tab":
        tabs = [i for i, b in enumerate(data) if b == 9]
        cut = tabs[min(len(tabs) - 1, int(where * len(tabs)))]
        return data[:cut] + data[cut + 1 :]
    return data[:index] + bytes([byte]) + data[index + 1 :]


@SETTINGS
@given(vcf_file(), corruption())
def test_corrupted_files_end_in_input_error_or_flagged_records(case, damage):
    _dialect, text, _expected = case
    kind, where, byte = damage
    with tempfile.TemporaryDirectory() as folder:
        compress = kind == "flip_compressed"
        path = write(Path(folder), text, compress)
        path.write_bytes(corrupt(path.read_bytes(), kind, where, byte))
        try:
            with open_vcf(path, expected_build="GRCh38") as reader:
                records = list(reader)
        except InputError as error:
            assert str(path) in error.message
            assert "; " in error.message
            return
    for record in records:
        assert record.problem is None or isinstance(record.problem, str)
        if record.problem or record.inconsistency or record.depth is None:
            continue
        if record.alt_reads is not None:
            # Mutect2/VarDict count DP before reassembly/realignment: a few reads of slack
            assert 0 <= record.alt_reads <= record.depth + max(5, record.depth // 20)
        assert record.vaf is None or 0 <= record.vaf <= 1
