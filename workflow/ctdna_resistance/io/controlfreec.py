"""Control-FREEC `_CNVs` files (e.g. sarek's `<tumour>_vs_<normal>.tumor.mpileup.gz_CNVs`).

No header line. Tab-separated columns: chr, start, end, copy number (integer), status
(gain/loss/neutral), then with BAF: genotype (AAB, or '-' when BAF was not assessed) and
uncertainty (-1 when not computed); a paired run may add somatic/germline columns. Each row
becomes a `Segment` with ``copy_number`` = the copy number and ``log2 = log2(CN / 2)``.

Whether that copy number is the tumour's own depends on the run: only with
``contaminationAdjustment = TRUE`` does FREEC correct for normal-cell contamination (nf-core/sarek
leaves it off unless --cf_contamination_adjustment). The run's `config.txt` beside the file says;
the input is ``absolute`` only when it says TRUE. Otherwise the integer is the rounded copy number
of the tumour/normal mixture, i.e. a (rounded) plasma copy number, and the workflow treats it so.

FREEC calls windows: a call may start up to one window before the previous call ends (the real
sarek 3.5.1 HCC1395 file overlaps by 29-199 bp). Such a start is moved to the previous end + 1 when
the overlap is at most `MAX_OVERLAP_BP`; a deeper overlap is refused as two calls for one locus.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.purple import absolute_log2
from ctdna_resistance.io.segment_table import (
    CopyNumberInput,
    Table,
    check_contig,
    finish_segments,
    make_segment,
    parse_float,
    parse_int,
    sort_key,
)

SUFFIX = "_CNVs"
STATUSES = ("gain", "loss", "neutral")
MAX_OVERLAP_BP = 1000


def is_controlfreec_cnvs(path: str, header: list[str]) -> bool:
    """True when the 'header' read is in fact a first data row of a _CNVs file."""
    if len(header) < 5:
        return False
    looks_like_row = header[1].isdigit() and header[2].isdigit() and header[4] in STATUSES
    return looks_like_row or (Path(path).name.endswith(SUFFIX) and header[1].isdigit())


def contamination_adjusted(cnvs_path: str) -> bool:
    """True when the run's config.txt (same folder) sets contaminationAdjustment = TRUE."""
    config = Path(cnvs_path).with_name("config.txt")
    if not config.is_file():
        return False
    with open(config, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            key, _, value = line.partition("=")
            if key.strip().lower() == "contaminationadjustment":
                return value.strip().upper() == "TRUE"
    return False


def read_controlfreec_cnvs(table: Table, *, expected_build: str | None = None) -> CopyNumberInput:
    """Segments of a Control-FREEC _CNVs file already read (its first row sits in the header)."""
    rows = [(table.header_line, table.header), *table.rows]
    segments = []
    for line_no, fields in rows:
        if len(fields) < 5:
            raise InputError(
                table.path,
                f"{len(fields)} fields where a Control-FREEC _CNVs row has at least 5",
                "give the _CNVs file as FREEC wrote it (chr start end copy-number status ...)",
                record=line_no,
            )
        status = fields[4]
        if status not in STATUSES:
            raise InputError(
                table.path,
                f"status {status!r} is not gain, loss or neutral",
                "give the _CNVs file as FREEC wrote it",
                record=line_no,
            )
        copy_number = parse_float(table, line_no, fields[3], "copy number")
        if copy_number < 0 or copy_number != math.floor(copy_number):
            raise InputError(
                table.path,
                f"copy number {fields[3]!r} is not a whole number >= 0",
                "give the _CNVs file as FREEC wrote it",
                record=line_no,
            )
        segments.append(
            make_segment(
                table,
                line_no,
                chrom=check_contig(table, line_no, fields[0]),
                start=parse_int(table, line_no, fields[1], "start"),
                end=parse_int(table, line_no, fields[2], "end"),
                log2=absolute_log2(copy_number),
                copy_number=copy_number,
            )
        )
    trimmed = _trim_window_overlaps(table, segments)
    ordered = finish_segments(table, trimmed, expected_build=expected_build)
    name = Path(table.path).name
    sample = name.split(".")[0] if name.endswith(SUFFIX) else None
    return CopyNumberInput(
        path=table.path,
        fmt="controlfreec_cnvs",
        sample=sample,
        segments=ordered,
        absolute=contamination_adjusted(table.path),
    )


def _trim_window_overlaps(table: Table, segments: list) -> list:
    """Move a start that lies inside the previous call (by <= MAX_OVERLAP_BP) past its end."""
    trimmed = []
    for segment in sorted(segments, key=sort_key):
        if trimmed and trimmed[-1].chrom == segment.chrom and segment.start <= trimmed[-1].end:
            overlap = trimmed[-1].end - segment.start + 1
            new_start = trimmed[-1].end + 1
            if overlap > MAX_OVERLAP_BP or new_start > segment.end:
                raise InputError(
                    table.path,
                    f"call {segment.chrom}:{segment.start}-{segment.end} overlaps the previous "
                    f"call by {overlap} bp (more than a FREEC window edge)",
                    "give one non-overlapping FREEC run per sample",
                    record=segment.record_no,
                )
            segment = replace(segment, start=new_start)
        trimmed.append(segment)
    return trimmed
