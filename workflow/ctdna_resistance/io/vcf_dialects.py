"""Caller dialects of small-variant VCFs: how each tool writes depth, alt reads and VAF.

This module knows formats only (house rule 3). `detect_dialect` names the tool from the header;
`missing_count_fields` says whether a header carries what a dialect needs; `count_alleles` turns one
cyvcf2 record into per-ALT (depth, alt_reads, vaf, problem) following SPEC 3.4.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np

from ctdna_resistance.record_consistency import (
    FieldValues,
    allele_inconsistency,
    record_inconsistency,
)

DIALECTS = (
    "mutect2",
    "vardict",
    "strelka2",
    "lofreq",
    "varscan2",
    "bcftools",
    "freebayes",
    "generic",
)

# Names a user may put in `caller:`; several tools share one dialect (SPEC 3.4 table).
CALLER_ALIASES = {
    **{name: name for name in DIALECTS},
    "gatk": "mutect2",
    "mutect": "mutect2",
    "mutect2": "mutect2",
    "sentieon": "mutect2",
    "tnscope": "mutect2",
    "tnhaplotyper": "mutect2",
    "tnhaplotyper2": "mutect2",
    "dragen": "mutect2",
    "vardictjava": "vardict",
    "strelka": "strelka2",
    "varscan": "varscan2",
    "bcftools_call": "bcftools",
    "samtools": "bcftools",
}

# htslib sentinels as cyvcf2 hands them over in int32 arrays.
_INT_MISSING = -(2**31)
_INT_VECTOR_END = -(2**31) + 1


@dataclass(frozen=True, slots=True)
class HeaderFields:
    """What the header declares, as far as counting and annotation care."""

    info: dict[str, str]  # INFO ID -> Number
    format: dict[str, str]  # FORMAT ID -> Number
    info_descriptions: dict[str, str]  # INFO ID -> Description
    samples: tuple[str, ...]
    types: dict[tuple[str, str], str]  # ('INFO' or 'FORMAT', ID) -> Type


_DEFINITION = re.compile(r"^##(INFO|FORMAT)=<(.*)>\s*$")
_ATTRIBUTE = re.compile(r'([A-Za-z_]+)=("(?:[^"\\]|\\.)*"|[^,]*)')


def parse_header_fields(header_text: str) -> HeaderFields:
    """Collect INFO/FORMAT IDs with their Number, Type and Description, and the sample columns."""
    info: dict[str, str] = {}
    fmt: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    types: dict[tuple[str, str], str] = {}
    samples: tuple[str, ...] = ()
    for line in header_text.splitlines():
        if line.startswith("#CHROM"):
            samples = tuple(line.rstrip("\r\n").split("\t")[9:])
            continue
        match = _DEFINITION.match(line)
        if not match:
            continue
        attributes = {key: value for key, value in _ATTRIBUTE.findall(match.group(2))}
        field_id = attributes.get("ID", "")
        number = attributes.get("Number", ".")
        types[(match.group(1), field_id)] = attributes.get("Type", "")
        if match.group(1) == "INFO":
            info[field_id] = number
            descriptions[field_id] = attributes.get("Description", "").strip('"')
        else:
            fmt[field_id] = number
    return HeaderFields(info, fmt, descriptions, samples, types)


def _meta_values(header_text: str, key: str) -> list[str]:
    prefix = f"##{key}="
    return [
        line[len(prefix) :].strip() for line in header_text.splitlines() if line.startswith(prefix)
    ]


def detect_dialect(header_text: str, fields: HeaderFields | None = None) -> str:
    """Name the caller dialect from a VCF header; 'generic' when nothing identifies the tool.

    Tool-written markers win (Sentieon/DRAGEN/GATK command lines, ``##MutectVersion``,
    ``##source=``, ``##content=strelka``, ``##bcftools_callVersion``/``##samtoolsVersion``); the
    FORMAT/INFO definitions decide only when no marker is present (e.g. paired VarDict, which writes
    no ``##source``).
    """
    fields = fields or parse_header_fields(header_text)
    lines = header_text.splitlines()
    if any(
        line.startswith(("##SentieonCommandLine", "##DRAGENCommandLine", "##MutectVersion"))
        or line.startswith("##Mutect Version")  # GATK 4.0 wrote a space into the key
        or (line.startswith("##GATKCommandLine") and "mutect" in line.lower())
        for line in lines
    ):
        return "mutect2"
    sources = [value.lower() for value in _meta_values(header_text, "source")]
    sources += [value.lower() for value in _meta_values(header_text, "content")]
    for source in sources:
        if "mutect" in source:
            return "mutect2"
        if source.startswith("strelka"):
            return "strelka2"
        if source.startswith("vardict"):
            return "vardict"
        if source.startswith("lofreq"):
            return "lofreq"
        if source.startswith("varscan"):
            return "varscan2"
        if source.startswith("freebayes"):
            return "freebayes"
    if any(line.startswith(("##bcftools_callVersion", "##samtoolsVersion")) for line in lines):
        return "bcftools"
    return _dialect_from_definitions(fields)


def _dialect_from_definitions(fields: HeaderFields) -> str:
    fmt, info = fields.format, fields.info
    if {"AU", "CU", "GU", "TU"} <= fmt.keys() or {"TAR", "TIR"} <= fmt.keys():
        return "strelka2"
    if "FREQ" in fmt and "RD" in fmt:
        return "varscan2"
    if "VD" in fmt or ("VD" in info and "SAMPLE" in info):
        return "vardict"
    if "RO" in fmt and "AO" in fmt:
        return "freebayes"
    if "DV" in fmt and "AD" not in fmt:
        return "bcftools"
    if not fields.samples and "DP4" in info and "DP" in info:
        return "lofreq"
    if "AD" in fmt and "AF" in fmt and "TLOD" in info:
        return "mutect2"
    return "generic"


# What each dialect must find in the header to count anything (SPEC 3.4); alternatives are OR-ed.
_REQUIRED_FORMAT: dict[str, tuple[tuple[str, ...], ...]] = {
    "mutect2": (("AD",),),
    "vardict": (("DP", "AD"), ("DP", "VD")),
    "strelka2": (("AU", "CU", "GU", "TU"), ("TAR", "TIR")),
    "varscan2": (("DP", "AD"),),
    "bcftools": (("AD",), ("DP", "DV")),
    "freebayes": (("RO", "AO"), ("AD",)),
    "generic": (("AD",),),
}


def missing_count_fields(dialect: str, fields: HeaderFields) -> str | None:
    """Say what the header lacks for this dialect to count reads, or None when it has enough."""
    if dialect == "lofreq":
        missing = [f"INFO/{key}" for key in ("DP", "DP4") if key not in fields.info]
        if not missing:
            return None
        # name what is absent: a header with DP but no DP4 (a filter that dropped the line)
        # must not read as if neither were there
        return (
            "the lofreq dialect counts reads from INFO/DP and INFO/DP4, and the header declares "
            f"no {' and no '.join(missing)}"
        )
    options = _REQUIRED_FORMAT[dialect]
    if not fields.samples:
        return (
            f"no sample columns, so no FORMAT read counts for the {dialect} dialect "
            "(and no INFO/DP4 allele counts to read it as a sites-only file)"
        )
    if any(set(option) <= fields.format.keys() for option in options):
        return None
    wanted = " or ".join("+".join(f"FORMAT/{key}" for key in option) for option in options)
    return f"no usable read counts for the {dialect} dialect: the header declares no {wanted}"


@dataclass(frozen=True, slots=True)
class AlleleCounts:
    """Counts of one ALT allele in the chosen sample."""

    depth: int | None
    alt_reads: int | None
    vaf: float | None
    problem: str | None = None
    inconsistency: str | None = None  # the record contradicts itself (record_consistency)


@dataclass(frozen=True, slots=True)
class CountContext:
    """Per-file facts the counting functions need.

    ``undeclared`` collects the FORMAT keys a dialect read although the header does not declare
    them (Strelka's TAR/TIR in a file that concatenates its SNV and indel halves), for the
    accounting to say so.
    """

    fields: HeaderFields
    sample_index: int | None
    sample: str | None
    undeclared: set = field(default_factory=set)


# FORMAT keys a dialect writes that a concatenated file may not declare (issue 18): read from the
# record as htslib hands them over (a String '900,910'), with a note in the accounting.
UNDECLARED_READABLE = {"strelka2": ("TAR", "TIR")}


def _undeclared_ints(variant, key: str, ctx: CountContext, dialect: str) -> list[int] | None:
    """An undeclared FORMAT key of the dialect's, as integers; None when absent or not counts."""
    if key not in UNDECLARED_READABLE.get(dialect, ()) or ctx.sample_index is None:
        return None
    if key in ctx.fields.format or key not in (variant.FORMAT or []):
        return None
    text = str(np.asarray(variant.format(key))[ctx.sample_index])
    parts = text.split(",")
    if not all(part.strip().lstrip("-").isdigit() for part in parts):
        return None
    ctx.undeclared.add(key)
    return [int(part) for part in parts]


def _ints(variant, key: str, ctx: CountContext) -> list[int | None] | None:
    """FORMAT integers of the chosen sample; None when the field is absent from this record."""
    if key not in ctx.fields.format or ctx.sample_index is None:
        return None
    array = variant.format(key)
    if array is None:
        return None
    values: list[int | None] = []
    for value in np.asarray(array)[ctx.sample_index].tolist():
        value = int(value)
        if value == _INT_VECTOR_END:
            break
        values.append(None if value == _INT_MISSING else value)
    if not values or all(value is None for value in values):
        return None
    return values


def _floats(variant, key: str, ctx: CountContext) -> list[float | None] | None:
    if key not in ctx.fields.format or ctx.sample_index is None:
        return None
    array = variant.format(key)
    if array is None:
        return None
    values = [_shortest_float(value) for value in np.asarray(array)[ctx.sample_index]]
    while values and values[-1] is None:  # htslib pads short vectors; floats cannot tell why
        values.pop()
    return values or None


def _string(variant, key: str, ctx: CountContext) -> str | None:
    if key not in ctx.fields.format or ctx.sample_index is None:
        return None
    array = variant.format(key)
    if array is None:
        return None
    value = str(np.asarray(array)[ctx.sample_index])
    return None if value in ("", ".") else value


def _shortest_float(value) -> float | None:
    """float32 from htslib as the decimal the caller wrote (0.087, not 0.08699999749660492)."""
    number = float(value)
    if math.isnan(number):
        return None
    return float(str(np.float32(value)))


def _first(values: list | None):
    return None if not values else values[0]


def _computed_vaf(alt_reads: int | None, depth: int | None) -> float | None:
    if alt_reads is None or depth is None or depth <= 0:
        return None
    return alt_reads / depth


def _info_number(variant, key: str):
    value = variant.INFO.get(key)
    return None if value is None or value == "." else value


def _same_problem(n_alts: int, problem: str) -> list[AlleleCounts]:
    return [AlleleCounts(None, None, None, problem) for _ in range(n_alts)]


def _per_allele_vaf(values: list[float | None] | None, n_alts: int, index: int) -> float | None:
    """A Number=A VAF for ALT `index` (0-based), or None when the array does not fit the ALTs."""
    if values is None or len(values) != n_alts:
        return None
    return values[index]


def _counts_from_ad(
    ad: list[int | None] | None,
    n_alts: int,
    depth: int | None,
    vafs: list[float | None] | None,
    what: str,
) -> list[AlleleCounts]:
    """Alt reads from a Number=R AD array; depth is given or sum(AD)."""
    if ad is None:
        return _same_problem(n_alts, f"no {what} for this record")
    if len(ad) != n_alts + 1:
        return _same_problem(
            n_alts,
            f"{what} has {len(ad)} values for {n_alts} ALT allele(s) (Number=R wants {n_alts + 1})",
        )
    if depth is None:
        depth = sum(value for value in ad if value is not None)
    counts = []
    for index in range(n_alts):
        alt_reads = ad[index + 1]
        if alt_reads is None:
            counts.append(AlleleCounts(depth, None, None, f"{what} is missing for this ALT"))
            continue
        vaf = _per_allele_vaf(vafs, n_alts, index)
        counts.append(
            AlleleCounts(
                depth, alt_reads, vaf if vaf is not None else _computed_vaf(alt_reads, depth)
            )
        )
    return counts


def _count_mutect2(variant, n_alts: int, ctx: CountContext) -> list[AlleleCounts]:
    # Old (4.0-era) Mutect2 declared FORMAT/DP but wrote none; sum(AD) is then the depth.
    depth = _first(_ints(variant, "DP", ctx))
    afs = _floats(variant, "AF", ctx)
    return _counts_from_ad(_ints(variant, "AD", ctx), n_alts, depth, afs, "FORMAT/AD")


def _count_vardict(variant, n_alts: int, ctx: CountContext) -> list[AlleleCounts]:
    depth = _first(_ints(variant, "DP", ctx))
    ad = _ints(variant, "AD", ctx)
    afs = _floats(variant, "AF", ctx)
    if ad is not None and len(ad) == n_alts + 1:
        return _counts_from_ad(ad, n_alts, depth, afs, "FORMAT/AD")
    variant_depth = _first(_ints(variant, "VD", ctx))
    if n_alts == 1 and variant_depth is not None:
        vaf = _first(afs)
        if depth is None:
            return _same_problem(1, "no FORMAT/DP for this record")
        return [
            AlleleCounts(
                depth,
                variant_depth,
                vaf if vaf is not None else _computed_vaf(variant_depth, depth),
            )
        ]
    return _counts_from_ad(ad, n_alts, depth, afs, "FORMAT/AD")


_STRELKA_TIERS = {"A": "AU", "C": "CU", "G": "GU", "T": "TU"}


def _count_strelka2(variant, n_alts: int, ctx: CountContext) -> list[AlleleCounts]:
    ref, alts = variant.REF, variant.ALT
    is_snv = len(ref) == 1 and all(len(alt) == 1 for alt in alts)
    if is_snv and {"AU", "CU", "GU", "TU"} <= ctx.fields.format.keys():
        tier1 = {base: _first(_ints(variant, key, ctx)) for base, key in _STRELKA_TIERS.items()}
        if any(value is None for value in tier1.values()):
            return _same_problem(n_alts, "no tier-1 AU/CU/GU/TU counts for this record")
        depth = sum(tier1.values())
        counts = []
        for alt in alts:
            alt_reads = tier1.get(alt.upper())
            if alt_reads is None:
                counts.append(AlleleCounts(depth, None, None, f"no tier-1 count for base {alt}"))
            else:
                counts.append(AlleleCounts(depth, alt_reads, _computed_vaf(alt_reads, depth)))
        return counts
    undeclared = {key: _undeclared_ints(variant, key, ctx, "strelka2") for key in ("TAR", "TIR")}
    if {"TAR", "TIR"} <= ctx.fields.format.keys() or all(undeclared.values()):
        if n_alts != 1:
            return _same_problem(n_alts, "Strelka TAR/TIR count one indel allele per record")
        tar = _first(undeclared["TAR"] or _ints(variant, "TAR", ctx))
        tir = _first(undeclared["TIR"] or _ints(variant, "TIR", ctx))
        if tar is None or tir is None:
            return _same_problem(1, "no tier-1 TAR/TIR counts for this record")
        return [AlleleCounts(tar + tir, tir, _computed_vaf(tir, tar + tir))]
    return _same_problem(n_alts, "Strelka record with neither SNV tier counts nor TAR/TIR")


def _count_lofreq(variant, n_alts: int, ctx: CountContext) -> list[AlleleCounts]:
    depth = _info_number(variant, "DP")
    dp4 = _info_number(variant, "DP4")
    if depth is None or dp4 is None:
        return _same_problem(n_alts, "no INFO/DP or INFO/DP4 for this record")
    if n_alts != 1:
        return _same_problem(n_alts, "INFO/DP4 pools all ALT alleles; cannot split them")
    if isinstance(depth, tuple | list):  # INFO/DP is Number=1 (record_consistency names it)
        return _same_problem(n_alts, f"INFO/DP has {len(depth)} values, not 1")
    dp4 = tuple(dp4) if isinstance(dp4, tuple | list) else (dp4,)
    if len(dp4) != 4:
        return _same_problem(1, f"INFO/DP4 has {len(dp4)} values, not 4")
    alt_reads = int(dp4[2]) + int(dp4[3])
    af = _info_number(variant, "AF")
    af = af[0] if isinstance(af, tuple | list) else af
    vaf = _shortest_float(af) if af is not None else None
    if vaf is None:
        vaf = _computed_vaf(alt_reads, int(depth))
    return [AlleleCounts(int(depth), alt_reads, vaf)]


class _NotPercent(ValueError):
    """A VarScan FREQ that is not 'number%'."""


def _percent(text: str | None) -> float | None:
    """VarScan's FREQ ('24.49%') as a fraction; raises _NotPercent for anything else.

    Without the '%' a value such as 0.35 could be a fraction or a percent (100-fold apart), so
    it is not guessed.
    """
    if text is None:
        return None
    text = text.strip()
    if not text.endswith("%"):
        raise _NotPercent(f"FORMAT/FREQ {text!r} has no '%' (VarScan writes e.g. 1.2%)")
    try:
        # Decimal keeps "24.49%" as 0.2449 rather than 0.24489999999999998.
        return float(Decimal(text[:-1]) / 100)
    except InvalidOperation:
        raise _NotPercent(f"FORMAT/FREQ {text!r} is not a percentage") from None


def _count_varscan2(variant, n_alts: int, ctx: CountContext) -> list[AlleleCounts]:
    if n_alts != 1:
        return _same_problem(n_alts, "VarScan2 FORMAT/AD is a single alt count; cannot split ALTs")
    depth = _first(_ints(variant, "DP", ctx))
    alt_reads = _first(_ints(variant, "AD", ctx))  # VarScan AD = alt depth (reads2), RD = ref
    if depth is None or alt_reads is None:
        return _same_problem(1, "no FORMAT/DP or FORMAT/AD for this record")
    try:
        vaf = _percent(_string(variant, "FREQ", ctx))
    except _NotPercent as error:
        return [AlleleCounts(depth, alt_reads, None, str(error))]
    return [
        AlleleCounts(depth, alt_reads, vaf if vaf is not None else _computed_vaf(alt_reads, depth))
    ]


def _count_bcftools(variant, n_alts: int, ctx: CountContext) -> list[AlleleCounts]:
    ad = _ints(variant, "AD", ctx)
    if ad is not None:
        return _counts_from_ad(ad, n_alts, None, None, "FORMAT/AD")
    depth = _first(_ints(variant, "DP", ctx))
    non_ref = _first(_ints(variant, "DV", ctx))
    if depth is None or non_ref is None:
        return _same_problem(n_alts, "no FORMAT/AD and no FORMAT/DP+DV for this record")
    # DV pools all non-reference reads: exact per ALT only when there is one ALT, or none at all.
    if n_alts == 1 or non_ref == 0:
        return [AlleleCounts(depth, non_ref, _computed_vaf(non_ref, depth)) for _ in range(n_alts)]
    return _same_problem(n_alts, "FORMAT/DV pools all ALT alleles; cannot split them")


def _count_freebayes(variant, n_alts: int, ctx: CountContext) -> list[AlleleCounts]:
    ref_obs = _first(_ints(variant, "RO", ctx))
    alt_obs = _ints(variant, "AO", ctx)
    if ref_obs is not None and alt_obs is not None:
        if len(alt_obs) != n_alts:
            return _same_problem(
                n_alts,
                f"FORMAT/AO has {len(alt_obs)} value(s) for {n_alts} ALT alleles "
                "(Number=A violated)",
            )
        depth = ref_obs + sum(value for value in alt_obs if value is not None)
        # INFO/AF of freebayes is the genotype allele frequency, not a read fraction: compute.
        return [
            AlleleCounts(depth, value, _computed_vaf(value, depth))
            if value is not None
            else AlleleCounts(depth, None, None, "FORMAT/AO is missing for this ALT")
            for value in alt_obs
        ]
    return _counts_from_ad(_ints(variant, "AD", ctx), n_alts, None, None, "FORMAT/RO+AO or AD")


def _count_generic(variant, n_alts: int, ctx: CountContext) -> list[AlleleCounts]:
    depth = _first(_ints(variant, "DP", ctx))
    return _counts_from_ad(_ints(variant, "AD", ctx), n_alts, depth, None, "FORMAT/AD")


_COUNTERS = {
    "mutect2": _count_mutect2,
    "vardict": _count_vardict,
    "strelka2": _count_strelka2,
    "lofreq": _count_lofreq,
    "varscan2": _count_varscan2,
    "bcftools": _count_bcftools,
    "freebayes": _count_freebayes,
    "generic": _count_generic,
}


# The fields each dialect reads (SPEC 3.4), with the strand counts that split its totals; every one
# present in a record is checked by record_consistency.
READ_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "mutect2": (("FORMAT", "AD"), ("FORMAT", "DP"), ("FORMAT", "AF"), ("FORMAT", "SB")),
    "vardict": (("FORMAT", "AD"), ("FORMAT", "DP"), ("FORMAT", "AF"), ("FORMAT", "VD"),
                ("FORMAT", "RD")),
    "strelka2": tuple(("FORMAT", key) for key in ("AU", "CU", "GU", "TU", "TAR", "TIR")),
    "lofreq": (("INFO", "DP"), ("INFO", "DP4"), ("INFO", "AF")),
    "varscan2": (("FORMAT", "DP"), ("FORMAT", "AD"), ("FORMAT", "RD"), ("FORMAT", "DP4"),
                 ("FORMAT", "FREQ")),
    "bcftools": (("FORMAT", "AD"), ("FORMAT", "DP"), ("FORMAT", "DV"), ("FORMAT", "ADF"),
                 ("FORMAT", "ADR")),
    "freebayes": (("FORMAT", "RO"), ("FORMAT", "AO"), ("FORMAT", "AD")),
    "generic": (("FORMAT", "AD"), ("FORMAT", "DP")),
}  # fmt: skip

# htslib's float sentinels (bcf_float_missing, bcf_float_vector_end) as float32 bit patterns.
_FLOAT_MISSING_BITS = 0x7F800001
_FLOAT_VECTOR_END_BITS = 0x7F800002


def read_fields(dialect: str, variant, ctx: CountContext) -> dict[str, FieldValues]:
    """The fields `dialect` reads from this record, as written (ID -> FieldValues)."""
    found = {}
    for kind, key in READ_FIELDS[dialect]:
        declared = ctx.fields.info if kind == "INFO" else ctx.fields.format
        if key not in declared:
            values = _undeclared_ints(variant, key, ctx, dialect) if kind == "FORMAT" else None
            if values is not None:  # checked by the caller's convention (Number=2 for TAR/TIR)
                found[key] = FieldValues(kind, key, ".", "Integer", tuple(values))
            continue
        values = _info_values(variant, key) if kind == "INFO" else _format_values(variant, key, ctx)
        if values is not None:
            found[key] = FieldValues(
                kind, key, declared[key], ctx.fields.types.get((kind, key), ""), values
            )
    return found


def _format_values(variant, key: str, ctx: CountContext) -> tuple | None:
    """The chosen sample's values of a FORMAT field, as many as were written; None if absent."""
    if ctx.sample_index is None:
        return None
    array = variant.format(key)
    if array is None:
        return None
    row = np.asarray(array)[ctx.sample_index]
    if row.dtype.kind in "iu":
        values = []
        for value in row.tolist():
            if value == _INT_VECTOR_END:
                break
            values.append(None if value == _INT_MISSING else int(value))
    elif row.dtype.kind == "f":
        values = []
        for value, bits in zip(
            row.tolist(), np.asarray(row, dtype=np.float32).view(np.uint32).tolist(), strict=True
        ):
            if bits == _FLOAT_VECTOR_END_BITS:
                break
            values.append(None if math.isnan(value) else _shortest_float(value))
    else:
        text = str(row.item() if row.ndim == 0 else row)
        values = [None if text in ("", ".") else text]
    if not values or all(value is None for value in values):
        return None
    return tuple(values)


def _info_values(variant, key: str) -> tuple | None:
    value = variant.INFO.get(key)
    if value is None:
        return None
    values = value if isinstance(value, tuple | list) else (value,)
    return tuple(
        None if item is None or item == "." else (float(item) if isinstance(item, float) else item)
        for item in values
    )


def count_alleles(dialect: str, variant, n_alts: int, ctx: CountContext) -> list[AlleleCounts]:
    """Depth, alt reads and VAF of each ALT of one cyvcf2 record, in ALT order.

    Each allele carries the record's first contradiction (record_consistency) as
    ``inconsistency``: among the fields this dialect reads, or among its own counts.
    """
    counts = _COUNTERS[dialect](variant, n_alts, ctx)
    record = record_inconsistency(dialect, read_fields(dialect, variant, ctx), n_alts)
    checked = []
    for allele in counts:
        inconsistency = record or allele_inconsistency(
            dialect, allele.depth, allele.alt_reads, allele.vaf
        )
        if inconsistency is not None:
            allele = AlleleCounts(
                allele.depth, allele.alt_reads, allele.vaf, allele.problem, inconsistency
            )
        checked.append(allele)
    return checked
