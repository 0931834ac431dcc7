"""SEG-style segment tables: GATK's `.called.seg`/`.modelFinal.seg`/`.cr.seg` and the generic SEG.

GATK (CallCopyRatioSegments, ModelSegments) writes a SAM-style header (`@HD`, `@SQ SN: LN: AS:`,
`@RG SM:`) before `CONTIG START END NUM_POINTS_COPY_RATIO ...`; coordinates are 1-based inclusive
and values are log2 copy ratios (`MEAN_LOG2_COPY_RATIO`, or the posterior median
`LOG2_COPY_RATIO_POSTERIOR_50` in `.modelFinal.seg`). The build is read from the @SQ lengths.

The generic SEG (DNAcopy/IGV) is `ID chrom loc.start loc.end num.mark seg.mean`, one row per
segment, possibly many samples per file; R-written variants quote the header names and may start
with a `WARNING:` line (handled by `read_table`). Nothing in a SEG says the value scale, so the user
declares it: log2 (default), log10 or a linear ratio.
"""

from __future__ import annotations

import math
import re

from ctdna_resistance.errors import InputError
from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.io.segment_table import (
    CopyNumberInput,
    Table,
    check_contig,
    check_expected_build,
    choose_sample,
    finish_segments,
    make_segment,
    parse_float,
    parse_int,
)
from ctdna_resistance.records import normalise_contig

GATK_LOG2_COLUMN = {
    "gatk_called_seg": "MEAN_LOG2_COPY_RATIO",
    "gatk_cr_seg": "MEAN_LOG2_COPY_RATIO",
    "gatk_model_seg": "LOG2_COPY_RATIO_POSTERIOR_50",
}

# Header names of the generic SEG seen in DNAcopy, PSCBS (R), IGV and GDC/TCGA segment files.
SEG_ALIASES = {
    "sample": ("ID", "sample", "sampleName", "sample_id", "Sample", "GDC_Aliquot"),
    "chrom": ("chrom", "chromosome", "chr"),
    "start": ("loc.start", "start", "startpos"),
    "end": ("loc.end", "end", "endpos"),
    "n_bins": ("num.mark", "nbrOfLoci", "num_probes", "num.markers", "markers"),
    "value": ("seg.mean", "mean", "segment_mean", "seg_mean"),
}

_SQ_FIELD = re.compile(r"\t([A-Z][A-Z0-9]):([^\t]*)")


def build_from_sam_header(preamble: list[str]) -> str | None:
    """The build the @SQ lines describe (contig lengths, else an AS: tag), or None."""
    candidates: set[str] | None = None
    assemblies = set()
    for line in preamble:
        if not line.startswith("@SQ"):
            continue
        tags = dict(_SQ_FIELD.findall(line))
        if "AS" in tags:
            assemblies.add(tags["AS"])
        contig = normalise_contig(tags.get("SN", ""))
        length = tags.get("LN", "")
        if not length.isdigit() or contig not in CONTIG_LENGTHS["GRCh38"]:
            continue
        matching = {b for b, lengths in CONTIG_LENGTHS.items() if lengths[contig] == int(length)}
        candidates = matching if candidates is None else candidates & matching
    if candidates is not None:
        return next(iter(candidates)) if len(candidates) == 1 else None
    named = {a for a in assemblies if a in CONTIG_LENGTHS}
    return named.pop() if len(named) == 1 else None


def sample_from_sam_header(preamble: list[str]) -> str | None:
    """The SM: of the @RG line(s), when they agree on one."""
    names = {dict(_SQ_FIELD.findall(line)).get("SM") for line in preamble if line.startswith("@RG")}
    names.discard(None)
    return names.pop() if len(names) == 1 else None


def read_gatk_seg(
    table: Table, fmt: str, *, sample: str | None = None, expected_build: str | None = None
) -> CopyNumberInput:
    """Segments of a GATK CallCopyRatioSegments / ModelSegments file already read."""
    build = build_from_sam_header(table.preamble)
    check_expected_build(table.path, build, expected_build)
    file_sample = sample_from_sam_header(table.preamble)
    if sample is not None and file_sample is not None and sample != file_sample:
        raise InputError(
            table.path,
            f"sample {sample!r} asked for, but the @RG header names {file_sample!r}",
            "give this sample's own segment file, or pass sample= as named in the file",
        )
    chrom_i = table.column("CONTIG")
    start_i = table.column("START")
    end_i = table.column("END")
    bins_i = table.column("NUM_POINTS_COPY_RATIO", required=False)
    value_name = GATK_LOG2_COLUMN[fmt]
    value_i = table.column(value_name)
    segments = []
    for line_no, fields in table.rows:
        segments.append(
            make_segment(
                table,
                line_no,
                chrom=check_contig(table, line_no, fields[chrom_i]),
                start=parse_int(table, line_no, fields[start_i], "START"),
                end=parse_int(table, line_no, fields[end_i], "END"),
                log2=parse_float(table, line_no, fields[value_i], value_name),
                n_bins=(
                    None
                    if bins_i is None
                    else parse_int(table, line_no, fields[bins_i], "NUM_POINTS_COPY_RATIO")
                ),
            )
        )
    ordered = finish_segments(table, segments, expected_build=expected_build)
    return CopyNumberInput(
        path=table.path, fmt=fmt, sample=file_sample or sample, segments=ordered, build=build
    )


def generic_seg_columns(table: Table, *, required: bool = True) -> dict[str, int | None] | None:
    """Column indices of a generic SEG, or None (when not ``required``) if it is not one."""
    found: dict[str, int | None] = {}
    for key, names in SEG_ALIASES.items():
        index = table.column(*names, required=False)
        if index is None and key != "n_bins":
            if not required:
                return None
            table.column(*names, what=names[0])  # raises the missing-column error
        found[key] = index
    return found


def to_log2(table: Table, line_no: int, value: float, scale: str) -> float:
    """A SEG value on the declared scale as log2."""
    if scale == "log2":
        return value
    if scale == "log10":
        return value / math.log10(2)
    if value <= 0:
        raise InputError(
            table.path,
            f"ratio {value} is not positive, so it has no log2",
            "check the declared scale (a log-scale SEG has negative values: use scale log2 or "
            "log10)",
            record=line_no,
        )
    return math.log2(value)


def read_generic_seg(
    table: Table,
    *,
    scale: str = "log2",
    sample: str | None = None,
    expected_build: str | None = None,
) -> CopyNumberInput:
    """One sample's segments from a generic SEG already read; ``scale`` as declared by the user."""
    columns = generic_seg_columns(table)
    assert columns is not None
    sample_i = columns["sample"]
    chosen = choose_sample(
        table, [fields[sample_i] for _, fields in table.rows], sample,
        id_column=table.header[sample_i],
    )  # fmt: skip
    segments = []
    for line_no, fields in table.rows:
        if fields[sample_i] != chosen:
            continue
        value = parse_float(
            table, line_no, fields[columns["value"]], table.header[columns["value"]]
        )
        bins_i = columns["n_bins"]
        segments.append(
            make_segment(
                table,
                line_no,
                chrom=check_contig(table, line_no, fields[columns["chrom"]]),
                start=parse_int(table, line_no, fields[columns["start"]], "start"),
                end=parse_int(table, line_no, fields[columns["end"]], "end"),
                log2=to_log2(table, line_no, value, scale),
                n_bins=(
                    None
                    if bins_i is None
                    else parse_int(table, line_no, fields[bins_i], table.header[bins_i])
                ),
            )
        )
    ordered = finish_segments(table, segments, expected_build=expected_build)
    return CopyNumberInput(path=table.path, fmt="seg", sample=chosen, segments=ordered)
