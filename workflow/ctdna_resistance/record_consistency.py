"""Whether one variant record's values can all be true at once (issue 18).

A record can be read without error and still contradict itself: an allele fraction of 1.7, an AD
array with one value too few for its ALT alleles, more alt reads than the depth, a negative count,
strand counts that do not add up to the total. Such a record must never reach a report. The checks
live here, once, below the caller dialects: a dialect hands over the fields it reads as written
(`FieldValues`) and the counts it took from them, and gets back the first contradiction, named
with the field and its values, or None. The record then goes to filtered.tsv as
``inconsistent_record`` with that detail.
"""

from __future__ import annotations

from dataclasses import dataclass

# FORMAT/INFO IDs whose values are read counts (whole numbers >= 0), in every dialect that reads
# them: depth and allele depths, Strelka's tier counts, VarScan's ref/alt depths, strand counts.
COUNT_IDS = frozenset(
    {"AD", "DP", "VD", "AU", "CU", "GU", "TU", "TAR", "TIR", "RO", "AO", "DV", "RD", "DP4", "SB",
     "ADF", "ADR"}
)  # fmt: skip
# IDs whose values are allele fractions (0-1).
FRACTION_IDS = frozenset({"AF"})

# How far a caller's per-allele read counts may add up above its FORMAT/DP. GATK Mutect2 (and
# Sentieon/DRAGEN, which write its fields) counts DP before local reassembly and AD after it;
# VarDict counts DP before indel realignment and AD after it: a few reads more in sum(AD) than in
# DP is what these callers write (VarDictJava's own test file: AD 85,5 at DP 87). Other callers
# count both from the same reads, so sum(AD) <= DP holds exactly. (reads, fraction of DP)
SUM_SLACK: dict[str, tuple[int, float]] = {
    "mutect2": (5, 0.05),
    "vardict": (5, 0.05),
    "generic": (5, 0.05),  # unknown caller: the widest known slack
}

# What a field's Number is by the caller's convention, for a header that declares Number=.
# (old GATK and VarDict headers declare AD that way) or does not declare the field at all
# (Strelka's TAR/TIR in a concatenated SNV + indel file).
CONVENTIONAL_NUMBER = {"AD": "R", "ADF": "R", "ADR": "R", "AO": "A", "SB": "4", "DP4": "4",
                       "TAR": "2", "TIR": "2"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class FieldValues:
    """One field of one record as written for the chosen sample (or the INFO column).

    ``values`` holds one entry per written value, None for '.'; a String field (VarScan's DP4)
    holds its text as one entry, split here where a check needs the numbers.
    """

    kind: str  # 'FORMAT' or 'INFO'
    id: str
    number: str  # the header's Number: 'R', 'A', 'G', '.', or a count
    type: str  # the header's Type
    values: tuple

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.id}"

    def shown(self) -> str:
        return ",".join("." if value is None else _number_text(value) for value in self.values)


def _number_text(value) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def expected_length(field: FieldValues, n_alts: int) -> int | None:
    """How many values the header's Number (or the caller's convention) wants for n_alts ALTs."""
    number = field.number
    if number not in ("R", "A") and not number.isdigit():
        number = CONVENTIONAL_NUMBER.get(field.id, number)
    if number == "R":
        return n_alts + 1
    if number == "A":
        return n_alts
    if number.isdigit():
        return int(number)
    return None  # Number=G or '.': nothing to size against


def field_inconsistency(field: FieldValues, n_alts: int) -> str | None:
    """A field whose values break its own header (Number, count, fraction), or None."""
    if field.type == "String":
        return _string_counts_inconsistency(field)
    wanted = expected_length(field, n_alts)
    if wanted is not None and len(field.values) != wanted:
        return (
            f"{field.key} has {len(field.values)} value(s) ({field.shown()}) for {n_alts} ALT "
            f"allele(s); Number={field.number} wants {wanted}"
        )
    for value in field.values:
        if value is None:
            continue
        if field.id in COUNT_IDS and (value < 0 or value != int(value)):
            return f"{field.key}={field.shown()}: a read count must be a whole number >= 0"
        if field.id in FRACTION_IDS and not 0 <= value <= 1:
            return f"{field.key}={field.shown()}: an allele fraction must lie in 0-1"
    return None


def _string_counts_inconsistency(field: FieldValues) -> str | None:
    """VarScan writes DP4 as a String '31,28,33,23' (four whole counts >= 0) and FREQ as '1.2%'."""
    if field.id == "FREQ":
        text = str(field.values[0]).strip()
        try:
            percent = float(text[:-1]) if text.endswith("%") else None
        except ValueError:
            percent = None  # not a percentage: the dialect says so (unreadable_record)
        if percent is not None and not 0 <= percent <= 100:
            return f"{field.key}={text}: an allele fraction must lie in 0-100%"
        return None
    if field.id not in COUNT_IDS:
        return None
    counts = string_counts(field)
    # the header's Number=1 is the one string; the counts inside follow the caller's convention
    wanted = CONVENTIONAL_NUMBER.get(field.id)
    if counts is None:
        return f"{field.key}={field.shown()}: not whole read counts >= 0"
    if wanted is not None and len(counts) != int(wanted):
        return f"{field.key}={field.shown()} has {len(counts)} counts; the caller writes {wanted}"
    return None


def string_counts(field: FieldValues) -> list[int] | None:
    """The counts of a String count field ('31,28,33,23'), None when they are not all counts."""
    text = field.values[0] if field.values else None
    if not isinstance(text, str):
        return None
    parts = text.split(",")
    if not all(part.strip().isdigit() for part in parts):
        return None
    return [int(part) for part in parts]


def _known(fields: dict[str, FieldValues], field_id: str) -> list | None:
    """The values of a numeric field when every one is written, else None."""
    field = fields.get(field_id)
    if field is None or field.type == "String" or any(v is None for v in field.values):
        return None
    return list(field.values)


def _slack(dialect: str, depth: int) -> int:
    reads, fraction = SUM_SLACK.get(dialect, (0, 0.0))
    return max(reads, int(fraction * depth))


def record_inconsistency(dialect: str, fields: dict[str, FieldValues], n_alts: int) -> str | None:
    """The first contradiction among a record's fields (by ID), or None when they agree.

    Each field against its header (`field_inconsistency`), then the fields against each other:
    allele depths against the total depth (within the caller's slack), and strand counts against
    the totals they split, where the caller writes both.
    """
    for field in fields.values():
        problem = field_inconsistency(field, n_alts)
        if problem is not None:
            return problem
    ad, dp = _known(fields, "AD"), _known(fields, "DP")
    # VarScan's AD is the alt count alone (checked with RD below)
    totals = ad is not None and dp is not None and dialect != "varscan2" and len(dp) == 1
    if totals and sum(ad) > dp[0] + _slack(dialect, dp[0]):
        return f"FORMAT/AD={fields['AD'].shown()} adds up to {sum(ad)}, above FORMAT/DP={dp[0]}"
    if dialect == "lofreq":
        depth, dp4 = _known(fields, "DP"), _known(fields, "DP4")
        if depth is not None and dp4 is not None and len(dp4) == 4 and dp4[2] + dp4[3] > depth[0]:
            return (
                f"INFO/DP4={fields['DP4'].shown()} has {dp4[2] + dp4[3]} alt reads, above "
                f"INFO/DP={depth[0]}"
            )
    return _strand_inconsistency(dialect, fields)


def _strand_inconsistency(dialect: str, fields: dict[str, FieldValues]) -> str | None:
    ad = _known(fields, "AD")
    if dialect == "mutect2" and ad is not None:
        sb = _known(fields, "SB")
        # SB: ref forward, ref reverse, alt forward, alt reverse (alts pooled)
        if sb is not None and (sb[0] + sb[1] != ad[0] or sb[2] + sb[3] != sum(ad[1:])):
            return (
                f"FORMAT/SB={fields['SB'].shown()} (strand counts) does not add up to "
                f"FORMAT/AD={fields['AD'].shown()}"
            )
    if dialect == "bcftools" and ad is not None:
        adf, adr = _known(fields, "ADF"), _known(fields, "ADR")
        both = adf is not None and adr is not None and len(adf) == len(adr) == len(ad)
        if both and [f + r for f, r in zip(adf, adr, strict=True)] != ad:
            return (
                f"FORMAT/ADF={fields['ADF'].shown()} + FORMAT/ADR={fields['ADR'].shown()} "
                f"(strand counts) differ from FORMAT/AD={fields['AD'].shown()}"
            )
    if dialect == "vardict" and ad is not None:
        variant_depth = _known(fields, "VD")  # VarDict VD: the alt reads, AD's second value
        if variant_depth is not None and len(ad) == 2 and variant_depth[0] != ad[1]:
            return (
                f"FORMAT/VD={variant_depth[0]} (alt reads) differs from the alt count in "
                f"FORMAT/AD={fields['AD'].shown()}"
            )
        ref_strands = _known(fields, "RD")  # VarDict RD: reference forward, reverse
        if ref_strands is not None and sum(ref_strands) != ad[0]:
            return (
                f"FORMAT/RD={fields['RD'].shown()} (reference strand counts) does not add up "
                f"to the reference count in FORMAT/AD={fields['AD'].shown()}"
            )
    if dialect == "varscan2":
        return _varscan_inconsistency(fields)
    return None


def _varscan_inconsistency(fields: dict[str, FieldValues]) -> str | None:
    ref, alt, dp = _known(fields, "RD"), _known(fields, "AD"), _known(fields, "DP")
    if ref is None or alt is None:
        return None
    if dp is not None and ref[0] + alt[0] > dp[0]:
        return f"FORMAT/RD={ref[0]} + FORMAT/AD={alt[0]} is above FORMAT/DP={dp[0]}"
    dp4 = fields.get("DP4")
    counts = string_counts(dp4) if dp4 is not None else None
    strands = counts if counts is not None and len(counts) == 4 else None
    if strands is not None and [sum(strands[:2]), sum(strands[2:])] != [ref[0], alt[0]]:
        return (
            f"FORMAT/DP4={dp4.shown()} (strand counts) does not add up to FORMAT/RD={ref[0]} "
            f"and FORMAT/AD={alt[0]}"
        )
    return None


def allele_inconsistency(
    dialect: str, depth: int | None, alt_reads: int | None, vaf: float | None
) -> str | None:
    """Why one allele's counts cannot be true (negative, alt above depth, VAF outside 0-1)."""
    if depth is not None and depth < 0:
        return f"negative depth ({depth})"
    if alt_reads is not None and alt_reads < 0:
        return f"negative alt read count ({alt_reads})"
    if depth is not None and alt_reads is not None and alt_reads > depth + _slack(dialect, depth):
        return f"alt reads ({alt_reads}) exceed the depth ({depth})"
    if vaf is not None and not 0 <= vaf <= 1:
        return f"allele fraction {vaf:g} is outside 0-1"
    return None


# A file is refused when more than this share of its records contradict themselves, once it has
# at least MIN_RECORDS_TO_REFUSE records: then it is the file (a wrong `caller`, columns shifted
# by a script, a broken conversion) that cannot be believed, not a record. Fewer records say too
# little; each is filtered with its reason.
REFUSE_SHARE = 0.5
MIN_RECORDS_TO_REFUSE = 10


def refuses_file(records: int, inconsistent: int) -> bool:
    """True when most of a file's records contradict themselves (see REFUSE_SHARE)."""
    return records >= MIN_RECORDS_TO_REFUSE and inconsistent > REFUSE_SHARE * records
