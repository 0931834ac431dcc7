"""Property tests of the record consistency checks (issue 18): random records whose values agree
with their header and with each other are all accepted, in every dialect; every single-field
corruption of such a record (a negative count, an array sized wrong for the ALTs, a fraction
outside 0-1, a total below its parts, strand counts that do not add up) is caught, names the field,
and leaves the other records alone; a file where most records contradict themselves is refused.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.vcf import open_vcf

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTIGS = "##contig=<ID=chr12,length=133275309>\n"
FMT = '##FORMAT=<ID={},Number={},Type={},Description="{}">\n'
INFO = '##INFO=<ID={},Number={},Type={},Description="{}">\n'
BASES = "ACGT"

HEADERS = {
    "mutect2": '##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --tumor-sample TUMOR">\n'
    + INFO.format("TLOD", "A", "Float", "TLOD")
    + FMT.format("AD", "R", "Integer", "AD")
    + FMT.format("AF", "A", "Float", "AF")
    + FMT.format("DP", "1", "Integer", "DP")
    + FMT.format("SB", "4", "Integer", "SB"),
    "vardict": "##source=VarDict_v1.8.3\n"
    + FMT.format("AD", "R", "Integer", "AD")
    + FMT.format("AF", "A", "Float", "AF")
    + FMT.format("DP", "1", "Integer", "DP")
    + FMT.format("VD", "1", "Integer", "VD")
    + FMT.format("RD", "2", "Integer", "RD"),
    "strelka2": "##source=strelka\n"
    + "".join(FMT.format(f"{b}U", "2", "Integer", b) for b in BASES)
    + FMT.format("TAR", "2", "Integer", "TAR")
    + FMT.format("TIR", "2", "Integer", "TIR"),
    "lofreq": "##source=lofreq call\n"
    + INFO.format("DP", "1", "Integer", "DP")
    + INFO.format("AF", "1", "Float", "AF")
    + INFO.format("DP4", "4", "Integer", "DP4"),
    "varscan2": "##source=VarScan2\n"
    + FMT.format("RD", "1", "Integer", "RD")
    + FMT.format("AD", "1", "Integer", "AD")
    + FMT.format("DP", "1", "Integer", "DP")
    + FMT.format("FREQ", "1", "String", "FREQ")
    + FMT.format("DP4", "1", "String", "DP4"),
    "bcftools": "##bcftools_callVersion=1.17\n"
    + FMT.format("AD", "R", "Integer", "AD")
    + FMT.format("ADF", "R", "Integer", "ADF")
    + FMT.format("ADR", "R", "Integer", "ADR")
    + FMT.format("DP", "1", "Integer", "DP"),
    "freebayes": "##source=freeBayes v1.3.6\n"
    + FMT.format("RO", "1", "Integer", "RO")
    + FMT.format("AO", "A", "Integer", "AO"),
    "generic": FMT.format("AD", "R", "Integer", "AD") + FMT.format("DP", "1", "Integer", "DP"),
}
HEADERS["strelka2_indel"] = HEADERS["strelka2"]
SINGLE_ALT = {"vardict", "lofreq", "varscan2", "strelka2_indel"}


def _split(draw, total: int) -> list[int]:
    forward = draw(st.integers(0, total))
    return [forward, total - forward]


@st.composite
def record(draw, dialect: str, min_alts: int = 1):
    """(ref, alts, fields) of one consistent record: fields is ID -> list of values, or text."""
    ref = draw(st.sampled_from(BASES))
    others = [b for b in BASES if b != ref]
    indel = dialect == "strelka2_indel"
    n_alts = 1 if dialect in SINGLE_ALT else draw(st.integers(min_alts, 3))
    alts = draw(st.permutations(others))[:n_alts]
    ref_reads = draw(st.integers(10, 3000))
    alt_reads = [draw(st.integers(1, 500)) for _ in alts]
    ad = [ref_reads, *alt_reads]
    extra = draw(st.integers(0, 40))
    depth = sum(ad) + extra
    fields: dict[str, list | str] = {}
    if dialect == "mutect2":
        sb = _split(draw, ref_reads) + _split(draw, sum(alt_reads))
        afs = [round(a / depth, 3) for a in alt_reads]
        fields = {"AD": ad, "AF": afs, "DP": [depth], "SB": sb}
    elif dialect == "vardict":
        fields = {"AD": ad, "AF": [round(alt_reads[0] / depth, 4)], "DP": [depth],
                  "VD": [alt_reads[0]], "RD": _split(draw, ref_reads)}  # fmt: skip
    elif indel:
        ref, alts = ref + "A", [ref]
        fields = {"TAR": [ref_reads, ref_reads + extra], "TIR": [alt_reads[0], alt_reads[0] + 1]}
    elif dialect == "strelka2":
        tier1 = {b: draw(st.integers(0, 50)) for b in BASES}
        tier1[ref] = ref_reads
        for base, count in zip(alts, alt_reads, strict=True):
            tier1[base] = count
        fields = {f"{b}U": [tier1[b], tier1[b] + draw(st.integers(0, 9))] for b in BASES}
    elif dialect == "lofreq":
        dp4 = _split(draw, ref_reads) + _split(draw, alt_reads[0])
        fields = {"DP": [depth], "AF": [round(alt_reads[0] / depth, 6)], "DP4": dp4}
    elif dialect == "varscan2":
        dp4 = _split(draw, ref_reads) + _split(draw, alt_reads[0])
        freq = f"{100 * alt_reads[0] / depth:.2f}%"
        fields = {"RD": [ref_reads], "AD": alt_reads, "DP": [depth], "FREQ": freq,
                  "DP4": ",".join(map(str, dp4))}  # fmt: skip
    elif dialect == "bcftools":
        adf = [draw(st.integers(0, count)) for count in ad]
        adr = [count - forward for count, forward in zip(ad, adf, strict=True)]
        fields = {"AD": ad, "ADF": adf, "ADR": adr, "DP": [sum(ad)]}
    elif dialect == "freebayes":
        fields = {"RO": [ref_reads], "AO": alt_reads}
    else:
        fields = {"AD": ad, "DP": [depth]}
    return ref, list(alts), fields


def _numbers(fields, key: str) -> list[int]:
    value = fields[key]
    return [int(part) for part in value.split(",")] if isinstance(value, str) else value


def _set_numbers(fields, key: str, numbers: list[int]) -> None:
    fields[key] = ",".join(map(str, numbers)) if isinstance(fields[key], str) else numbers


# The fields each dialect's record carries; with more than one value whatever the ALT count (or,
# for AO, with two ALTs) a value can also be dropped.
KEYS = {
    "mutect2": ["AD", "AF", "DP", "SB"],
    "vardict": ["AD", "AF", "DP", "VD", "RD"],
    "strelka2": ["AU", "CU", "GU", "TU"],
    "strelka2_indel": ["TAR", "TIR"],
    "lofreq": ["DP", "AF", "DP4"],
    "varscan2": ["RD", "AD", "DP", "FREQ", "DP4"],
    "bcftools": ["AD", "ADF", "ADR", "DP"],
    "freebayes": ["RO", "AO"],
    "generic": ["AD", "DP"],
}
MULTI_VALUED = {"AD", "SB", "DP4", "ADF", "ADR", "AU", "CU", "GU", "TU", "TAR", "TIR", "AO"}
TOTALS = {"mutect2", "vardict", "generic", "bcftools", "varscan2", "lofreq"}  # DP below its parts
STRANDS = {"mutect2": ["SB"], "vardict": ["RD", "VD"], "bcftools": ["ADF", "ADR"],
           "varscan2": ["DP4"]}  # fmt: skip


def corruptions(dialect: str) -> list[tuple[str, str]]:
    """(field ID, what is done to it) for every single-field corruption of this dialect."""
    found = []
    for key in KEYS[dialect]:
        if key == "FREQ":
            found.append((key, "above_one"))
            continue
        if key == "AF":
            found += [(key, "above_one"), (key, "negative"), (key, "extra_value")]
            continue
        found += [(key, "negative"), (key, "extra_value")]
        if (key in MULTI_VALUED and (dialect, key) != ("varscan2", "AD")) or (dialect, key) == (
            "vardict",
            "RD",
        ):
            found.append((key, "drop_value"))
    if dialect in TOTALS:
        found.append(("DP", "below_parts"))
    found += [(key, "plus_one") for key in STRANDS.get(dialect, [])]
    return found


CASES = [(dialect, *c) for dialect in sorted(KEYS) for c in corruptions(dialect)]


def corrupt(dialect: str, fields: dict, key: str, how: str, index: int) -> None:
    if how == "above_one":
        fields[key] = "150%" if key == "FREQ" else [1.5, *fields[key][1:]]
        return
    numbers = list(_numbers(fields, key))
    at = index % len(numbers)
    if how == "negative":
        numbers[at] = -abs(numbers[at]) - 1
    elif how == "extra_value":
        numbers.append(numbers[-1])
    elif how == "drop_value":
        numbers.pop()
    elif how == "plus_one":
        numbers[at] += 1
    elif how == "below_parts":
        if dialect == "lofreq":
            parts = fields["DP4"][2] + fields["DP4"][3]  # the alt reads
        elif dialect == "varscan2":
            parts = fields["RD"][0] + fields["AD"][0]
        else:
            parts = sum(fields["AD"])
        numbers = [0 if dialect in ("mutect2", "vardict", "generic") else parts - 1]
    _set_numbers(fields, key, numbers)


def line(dialect: str, pos: int, ref: str, alts: list[str], fields: dict) -> str:
    def text(value) -> str:
        return value if isinstance(value, str) else ",".join(map(str, value))

    site = f"chr12\t{pos}\t.\t{ref}\t{','.join(alts)}\t.\tPASS\t"
    if dialect == "lofreq":
        return site + ";".join(f"{key}={text(value)}" for key, value in fields.items()) + "\n"
    return (
        site + ".\t" + ":".join(fields) + "\t" + ":".join(text(v) for v in fields.values()) + "\n"
    )


def vcf_text(dialect: str, lines: list[str]) -> str:
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
    columns += "\n" if dialect == "lofreq" else "\tFORMAT\tTUMOR\n"
    return "##fileformat=VCFv4.2\n" + HEADERS[dialect] + CONTIGS + columns + "".join(lines)


def read(text: str) -> list:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "calls.vcf"
        path.write_text(text)
        with open_vcf(path, expected_build="GRCh38") as reader:
            return list(reader)


@st.composite
def consistent_file(draw):
    dialect = draw(st.sampled_from(sorted(HEADERS)))
    n = draw(st.integers(1, 5))
    records = [draw(record(dialect)) for _ in range(n)]
    return dialect, records


@SETTINGS
@given(consistent_file())
def test_consistent_records_are_all_accepted(case):
    dialect, records = case
    lines = [line(dialect, 1_000_000 + i, *rec) for i, rec in enumerate(records)]
    read_back = read(vcf_text(dialect, lines))
    assert len(read_back) == sum(len(alts) for _ref, alts, _fields in records)
    assert [(r.problem, r.inconsistency) for r in read_back] == [(None, None)] * len(read_back)
    for allele in read_back:
        assert allele.caller == dialect.removesuffix("_indel")
        assert 0 <= allele.alt_reads <= allele.depth and 0 <= allele.vaf <= 1


@pytest.mark.parametrize(("dialect", "key", "how"), CASES, ids=["-".join(c) for c in CASES])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_single_field_corruption_is_caught_and_named(dialect, key, how, data):
    min_alts = 2 if (key, how) == ("AO", "drop_value") else 1
    records = data.draw(st.lists(record(dialect, min_alts), min_size=1, max_size=4))
    target = data.draw(st.integers(0, len(records) - 1))
    ref, alts, fields = records[target]
    fields = {k: (v if isinstance(v, str) else list(v)) for k, v in fields.items()}
    corrupt(dialect, fields, key, how, data.draw(st.integers(0, 10)))
    records = [*records[:target], (ref, alts, fields), *records[target + 1 :]]
    lines = [line(dialect, 1_000_000 + i, *rec) for i, rec in enumerate(records)]
    read_back = read(vcf_text(dialect, lines))
    caught = {r.pos - 1_000_000 for r in read_back if r.inconsistency}
    assert caught == {target}, [r.inconsistency for r in read_back]
    for allele in read_back:
        if allele.pos - 1_000_000 == target:
            assert key in allele.inconsistency, allele
            assert allele.problem is None  # one reason per record: inconsistent_record
        else:
            assert allele.problem is None and allele.inconsistency is None


def _generic_lines(n: int, bad: int) -> list[str]:
    lines = []
    for i in range(n):
        depth = 50 if i < bad else 1000
        lines.append(f"chr12\t{1_000_000 + i}\t.\tC\tT\t.\tPASS\t.\tAD:DP\t900,100:{depth}\n")
    return lines


def test_a_file_where_most_records_contradict_themselves_is_refused():
    text = vcf_text("generic", _generic_lines(10, bad=6))
    with pytest.raises(InputError) as raised:
        read(text)
    message = raised.value.message
    assert "6 of 10 records contradict themselves" in message
    assert "first: data record 1: FORMAT/AD=900,100 adds up to 1000, above FORMAT/DP=50" in message
    assert "\n" not in message and "; " in message


@pytest.mark.parametrize(("n", "bad"), [(10, 5), (9, 9)])
def test_half_or_a_small_file_is_filtered_record_by_record(n, bad):
    read_back = read(vcf_text("generic", _generic_lines(n, bad)))
    assert sum(1 for r in read_back if r.inconsistency) == bad
