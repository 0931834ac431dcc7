"""PURPLE (Hartwig hmftools) `purple.cnv.somatic.tsv` segments and `purple.purity.tsv` purity.

`<tumour>.purple.cnv.somatic.tsv` (one header line, tab-separated, no comment lines) has the
columns chromosome start end copyNumber bafCount observedBAF baf segmentStartSupport
segmentEndSupport method depthWindowCount gcContent minStart maxStart and the allele copy numbers
(minorAlleleCopyNumber/majorAlleleCopyNumber in PURPLE 3-4, minorAllelePloidy/majorAllelePloidy in
PURPLE 2). Coordinates are 1-based inclusive (a segment starts at the previous end + 1).
``copyNumber`` is ABSOLUTE: the tumour's own copy number after PURPLE's purity/ploidy fit,
fractional (2.8141), and slightly negative at homozygous deletions (fit noise). Each `Segment`
keeps it in ``copy_number`` and gets ``log2 = log2(CN / 2)``, the tumour's log2 ratio against a
diploid reference (CN floored at `CN_FLOOR` so a deletion stays finite); ``n_bins`` is
``depthWindowCount`` (1 kb COBALT windows; 0 for the tiny segments PURPLE places between two SV
breakends). On X/Y of a male sample CN 1 is normal, so log2 -1 there is no loss (all panel genes are
autosomal).

`<tumour>.purple.purity.tsv` is one header line and one row; ``purity`` (a fraction 0-1, the
tumour fraction for plasma) and ``ploidy`` are read by name, since the column set changed between
versions (2.x has a ``version`` column and no ``runMode``/``targeted``; 4.x the reverse). ``status``
NO_TUMOR means PURPLE found no tumour evidence: the purity is then a fit artefact, so it is read but
named as such in the method.
"""

from __future__ import annotations

import math
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.segment_table import (
    CopyNumberInput,
    PurityEstimate,
    Table,
    check_contig,
    finish_segments,
    make_segment,
    parse_float,
    parse_int,
    read_table,
)

CNV_SUFFIX = ".purple.cnv.somatic.tsv"
PURITY_SUFFIX = ".purple.purity.tsv"
METHOD = "PURPLE purity"
# Absolute copy numbers at or below this are taken as 0.01 copies for the log2 (a homozygous
# deletion has CN ~0, and PURPLE's fit may print -0.03): log2(0.01/2) = -7.6, far below any call.
CN_FLOOR = 0.01


def absolute_log2(copy_number: float) -> float:
    """log2(CN / 2): the log2 ratio of an absolute copy number against a diploid reference."""
    return math.log2(max(copy_number, CN_FLOOR) / 2.0)


def is_purple_cnv(header: list[str]) -> bool:
    """True for the header of a purple.cnv.somatic.tsv."""
    names = {h.lower() for h in header}
    return {"chromosome", "start", "end", "copynumber"} <= names and (
        "segmentstartsupport" in names or "depthwindowcount" in names
    )


def read_purple_cnv(
    table: Table, *, sample: str | None = None, expected_build: str | None = None
) -> CopyNumberInput:
    """Segments of a purple.cnv.somatic.tsv already read; the file names no sample."""
    chrom_i = table.column("chromosome")
    start_i = table.column("start")
    end_i = table.column("end")
    cn_i = table.column("copyNumber")
    windows_i = table.column("depthWindowCount", required=False)
    segments = []
    for line_no, fields in table.rows:
        copy_number = parse_float(table, line_no, fields[cn_i], "copyNumber")
        segments.append(
            make_segment(
                table,
                line_no,
                chrom=check_contig(table, line_no, fields[chrom_i]),
                start=parse_int(table, line_no, fields[start_i], "start"),
                end=parse_int(table, line_no, fields[end_i], "end"),
                log2=absolute_log2(copy_number),
                n_bins=(
                    None
                    if windows_i is None
                    else parse_int(table, line_no, fields[windows_i], "depthWindowCount")
                ),
                copy_number=copy_number,
            )
        )
    ordered = finish_segments(table, segments, expected_build=expected_build)
    if sample is None and Path(table.path).name.endswith(CNV_SUFFIX):
        sample = Path(table.path).name[: -len(CNV_SUFFIX)]
    return CopyNumberInput(
        path=table.path, fmt="purple_cnv", sample=sample, segments=ordered, absolute=True
    )


def sibling_purity(cnv_path: str) -> Path | None:
    """`<tumour>.purple.purity.tsv` next to `<tumour>.purple.cnv.somatic.tsv`, if it exists."""
    path = Path(cnv_path)
    if not path.name.endswith(CNV_SUFFIX):
        return None
    candidate = path.with_name(path.name[: -len(CNV_SUFFIX)] + PURITY_SUFFIX)
    return candidate if candidate.is_file() else None


def is_purple_purity(header: list[str]) -> bool:
    """True for the header of a purple.purity.tsv (any PURPLE version seen: 2.x to 4.x)."""
    names = {h.lower() for h in header}
    return {"purity", "ploidy", "normfactor"} <= names


def read_purple_purity(path: str | Path) -> PurityEstimate:
    """Purity and ploidy from a purple.purity.tsv (one data row)."""
    table = read_table(path)
    if not is_purple_purity(table.header):
        raise InputError(
            path,
            f"not a PURPLE purity.tsv (header: {' '.join(table.header[:6])} ...)",
            "give the <tumour>.purple.purity.tsv PURPLE wrote next to the cnv.somatic.tsv",
            record=table.header_line,
        )
    if len(table.rows) != 1:
        raise InputError(
            path,
            f"{len(table.rows)} data rows where PURPLE writes one",
            "give the purity.tsv of one PURPLE run, unedited",
        )
    line_no, fields = table.rows[0]
    cells = dict(zip([h.lower() for h in table.header], fields, strict=True))
    purity = parse_float(table, line_no, cells["purity"], "purity")
    ploidy = parse_float(table, line_no, cells["ploidy"], "ploidy")
    if not 0.0 <= purity <= 1.0:
        raise InputError(
            path,
            f"purity is {purity}, not a fraction from 0 to 1",
            "give the purity.tsv as PURPLE wrote it (purity is a fraction)",
            record=line_no,
        )
    status = cells.get("status", "")
    method = METHOD if status != "NO_TUMOR" else f"{METHOD} (status NO_TUMOR: no tumour found)"
    notes = [f"status {status}"] if status else []
    if cells.get("version"):
        notes.append(f"PURPLE {cells['version']}")
    stem = Path(path).name
    sample = stem[: -len(PURITY_SUFFIX)] if stem.endswith(PURITY_SUFFIX) else None
    return PurityEstimate(
        path=str(path),
        method=method,
        purity=purity,
        ploidy=ploidy,
        sample=sample,
        notes="; ".join(notes),
    )
