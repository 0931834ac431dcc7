"""The table helpers and result types every copy-number reader shares (SPEC 3.5).

Below the readers (io/cnvkit.py, io/seg.py, io/purple.py ...) and the dispatcher that picks one
(io/copy_number.py): reading a table with the header lines other tools put before the column
header (GATK's SAM-style `@` lines, the `WARNING:` line R prints on stderr that ends up in a
redirected SEG, IGV `#track` lines) and quoted header names; parsing numbers and contigs with
one-line `InputError`s that name the file, the line, what is wrong and what to do; finishing
segments (sorted, checked for overlaps and the build); and what every reader returns,
`CopyNumberInput`, with `PurityEstimate` for purity/tumour-fraction files.
"""

from __future__ import annotations

import gzip
import itertools
import math
from dataclasses import dataclass, replace
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.records import BUILDS, Segment, normalise_contig

KNOWN_CONTIGS = frozenset([str(i) for i in range(1, 23)] + ["X", "Y", "MT"])
CONTIG_ORDER = {c: i for i, c in enumerate([str(i) for i in range(1, 23)] + ["X", "Y", "MT"])}

# A segment may end a little past the contig end of the build it was made on (fixed-width bins
# such as ichorCNA's 1 Mb bins are not clipped at the telomere). A segment ending more than this
# past the expected build's contig is from another build (GRCh37 and GRCh38 differ by more than
# 1 Mb on most chromosomes).
BUILD_END_SLACK_BP = 1_000_000


@dataclass(frozen=True)
class CopyNumberInput:
    """The segments of one sample from one copy-number file, with what the file says about it.

    ``tumor_fraction``/``ploidy`` come from the caller (ichorCNA params.txt, PURPLE purity.tsv,
    ASCAT rho, PureCN) when it gives them, with ``tf_source`` naming the method ('PURPLE purity',
    'ASCAT rho' ...) and ``purity_source`` the file it was read from; ``build`` is set only when
    the file states it (GATK's @SQ lengths), else None. ``absolute`` is True when the caller's
    copy numbers are the tumour's own, fitted with its purity (PURPLE, ASCAT, Control-FREEC with
    contaminationAdjustment): each segment's ``copy_number`` is then the tumour copy number and
    its ``log2`` is log2(copy_number / 2), NOT a plasma log2 ratio diluted by normal DNA.
    """

    path: str
    fmt: str
    sample: str | None
    segments: list[Segment]
    tumor_fraction: float | None = None
    ploidy: float | None = None
    tf_source: str | None = None
    build: str | None = None
    absolute: bool = False
    purity_source: str | None = None


@dataclass(frozen=True)
class PurityEstimate:
    """A tumour fraction (purity) and ploidy from one caller's file, with the method named."""

    path: str
    method: str  # e.g. 'PURPLE purity', 'ASCAT rho', 'PureCN purity', 'ichorCNA params.txt'
    purity: float
    ploidy: float | None
    sample: str | None = None
    notes: str = ""  # what else the file says about the fit (status, flags), for the report


def with_purity(result: CopyNumberInput, estimate: PurityEstimate) -> CopyNumberInput:
    """``result`` with the estimate's tumour fraction and ploidy; refuse another sample's file."""
    if estimate.sample and result.sample and estimate.sample != result.sample:
        raise InputError(
            estimate.path,
            f"purity file is for sample {estimate.sample!r} but the segments are {result.sample!r}",
            "give the purity file of the same run as the segments",
        )
    return replace(
        result,
        tumor_fraction=estimate.purity,
        ploidy=estimate.ploidy,
        tf_source=estimate.method,
        purity_source=estimate.path,
    )


# -- table reading shared by the readers -------------------------------------------------------


@dataclass
class Table:
    """A tab-separated table after its preamble: header names and numbered data rows."""

    path: str
    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]  # (1-based line number in the file, fields)
    preamble: list[str]  # '@' header lines (GATK), without newline

    def column(self, *names: str, required: bool = True, what: str = "") -> int | None:
        """Index of the first of ``names`` present in the header (case-insensitive)."""
        lowered = [h.lower() for h in self.header]
        for name in names:
            if name.lower() in lowered:
                return lowered.index(name.lower())
        if required:
            raise InputError(
                self.path,
                f"missing column {what or names[0]!r} (looked for {', '.join(names)}; "
                f"header is {' '.join(self.header)})",
                "give the file as the tool wrote it, with its column header",
                record=self.header_line,
            )
        return None


def open_text(path: Path):
    """A (gzipped) text table, undecodable bytes replaced (the readers refuse them by line)."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def unquote(field: str) -> str:
    """A header or cell without the quotes R's write.table puts around it."""
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] and field[0] in "\"'":
        return field[1:-1]
    return field


def _is_preamble(line: str) -> bool:
    # '@HD/@SQ/@RG': GATK's SAM-style header; 'WARNING': R's stderr captured into the file;
    # '#': IGV track/comment lines.
    return line.startswith(("@", "#")) or line.upper().startswith("WARNING")


def _is_data_row(header: list[str]) -> bool:
    """True when the 'header' is a headerless file's first row (start and end are numbers)."""
    return len(header) >= 3 and header[1].isdigit() and header[2].isdigit()


def read_table(path: str | Path, *, max_rows: int | None = None) -> Table:
    """Read a tab-separated copy-number table: skip the preamble, unquote, check field counts."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "copy-number file not found", "check the path in the sample sheet")
    preamble: list[str] = []
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    try:
        with open_text(path) as handle:
            for line_no, raw in enumerate(handle, start=1):
                line = raw.rstrip("\r\n")
                if not line.strip():
                    continue
                if "\ufffd" in line:  # what errors="replace" made of bytes that are not UTF-8
                    raise InputError(
                        path,
                        f"bytes that are not UTF-8 text at column {line.index(chr(0xFFFD)) + 1}",
                        "save the file as UTF-8 (or ASCII) text as the caller wrote it",
                        record=line_no,
                    )
                if header is None:
                    if _is_preamble(line):
                        preamble.append(line)
                        continue
                    header = [unquote(f) for f in line.split("\t")]
                    header_line = line_no
                    if header[:2] == ["Sample", "Tumor Fraction"]:
                        raise InputError(
                            path,
                            "this is an ichorCNA params.txt (tumour fraction), not segments",
                            "give the ichorCNA .seg as the copy-number file and this as params",
                            record=line_no,
                        )
                    continue
                fields = [unquote(f) for f in line.split("\t")]
                if len(fields) != len(header):
                    # Control-FREEC's _CNVs has no header: its first row is what was read as one
                    reference = (
                        f"the first row (line {header_line}; the file has no header) has"
                        if _is_data_row(header)
                        else "the header has"
                    )
                    raise InputError(
                        path,
                        f"{len(fields)} tab-separated fields where {reference} {len(header)}",
                        "the file must be tab-separated with one value per column (a row cut "
                        "short or joined with the next is damaged: re-export the file)",
                        record=line_no,
                    )
                rows.append((line_no, fields))
                if max_rows is not None and len(rows) >= max_rows:
                    break
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise InputError(
            path, f"cannot read the file ({error})", "give a plain-text or gzipped table"
        ) from None
    if header is None:
        raise InputError(path, "empty file: no column header and no segments",
                         "give the segment file the copy-number caller wrote")  # fmt: skip
    return Table(str(path), header, header_line, rows, preamble)


def parse_float(table: Table, line_no: int, value: str, column: str) -> float:
    """A finite float from a table cell, else a one-line InputError."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InputError(
            table.path,
            f"{column} is {value!r}, not a number",
            "each segment needs a numeric value; remove or fix the row",
            record=line_no,
        )
    return number


def parse_int(table: Table, line_no: int, value: str, column: str) -> int:
    """An integer coordinate or count (R may write 1e+05 or 100000.0), else an InputError."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number != int(number):
        raise InputError(
            table.path,
            f"{column} is {value!r}, not a whole number",
            "coordinates and counts must be integers; fix the row",
            record=line_no,
        )
    return int(number)


def check_contig(table: Table, line_no: int, raw: str) -> str:
    """The normalised contig, or an InputError for anything but 1-22, X, Y, MT (either style)."""
    chrom = normalise_contig(raw)
    if chrom not in KNOWN_CONTIGS:
        hint = (
            "rename 23/24 to X/Y (numbered sex chromosomes)"
            if chrom in ("23", "24", "25")
            else "keep only segments on 1-22, X, Y, MT (with or without 'chr')"
        )
        raise InputError(
            table.path, f"unknown contig {raw!r} (not 1-22, X, Y or MT)", hint, record=line_no
        )
    return chrom


def make_segment(
    table: Table,
    line_no: int,
    *,
    chrom: str,
    start: int,
    end: int,
    log2: float,
    n_bins: int | None = None,
    copy_number: float | None = None,
    gene: str = "",
) -> Segment:
    """A Segment (1-based inclusive) after the per-row checks every format shares."""
    if end < start:
        raise InputError(
            table.path,
            f"segment end {end} is before its start {start}",
            "fix the coordinates (start <= end)",
            record=line_no,
        )
    return Segment(table.path, line_no, chrom, start, end, log2, n_bins, copy_number, gene)


def sort_key(segment: Segment) -> tuple[int, int, int]:
    return (CONTIG_ORDER[segment.chrom], segment.start, segment.end)


def finish_segments(
    table: Table,
    segments: list[Segment],
    *,
    expected_build: str | None = None,
    bins: bool = False,
) -> list[Segment]:
    """Sort one sample's segments; refuse none at all, overlaps, and contigs past the build.

    ``bins``: the rows are bins, not segments (CNVkit .cnr, ichorCNA .cna.seg); CNVkit writes
    neighbouring antitarget bins that overlap by a few dozen bases (p2-9_2.cnr), so overlaps are
    accepted there; segments of one sample must not overlap.
    """
    if not segments:
        raise InputError(
            table.path,
            "no segments after the header",
            "give the segment file of a finished copy-number run",
        )
    ordered = sorted(segments, key=sort_key)
    for before, after in itertools.pairwise(ordered):
        # A shared boundary position is accepted: R segmenters (DNAcopy/PSCBS) write the end of
        # one segment as the start of the next. Anything deeper is two values for one locus.
        if not bins and after.chrom == before.chrom and after.start < before.end:
            raise InputError(
                table.path,
                f"segment {after.chrom}:{after.start}-{after.end} (line {after.record_no}) "
                f"overlaps {before.chrom}:{before.start}-{before.end} (line {before.record_no}) "
                "of the same sample",
                "give one non-overlapping segmentation per sample",
                record=after.record_no,
            )
    if expected_build is not None:
        lengths = CONTIG_LENGTHS[expected_build]
        other = next(b for b in BUILDS if b != expected_build)
        for segment in ordered:
            length = lengths.get(segment.chrom)
            if length is not None and length < segment.end == CONTIG_LENGTHS[other].get(
                segment.chrom
            ):
                # Segmenters end the last segment of a chromosome at its length: past the end of
                # the run's build and exactly at the other's is that build, whatever the slack.
                raise InputError(
                    table.path,
                    f"segment ends at {segment.chrom}:{segment.end}, the {other} length of "
                    f"chromosome {segment.chrom}, past its {length} bp in {expected_build}",
                    f"the file is from another genome build ({other}); give segments made on "
                    f"{expected_build} or set genome_build",
                    record=segment.record_no,
                )
            if length is not None and segment.end > length + BUILD_END_SLACK_BP:
                raise InputError(
                    table.path,
                    f"segment ends at {segment.chrom}:{segment.end}, beyond the {length} bp of "
                    f"chromosome {segment.chrom} in {expected_build}",
                    f"the file is from another genome build; give segments made on "
                    f"{expected_build} or set genome_build",
                    record=segment.record_no,
                )
    return ordered


def _listing(names: list[str], limit: int = 10) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def choose_sample(
    table: Table, ids: list[str], sample: str | None, *, id_column: str
) -> str | None:
    """The sample to keep: the only one, or the one asked for; refuse ambiguity with the IDs."""
    present = sorted(set(ids))
    if not present:
        raise InputError(
            table.path,
            "no segments after the header",
            "give the segment file of a finished copy-number run",
        )
    if sample is not None:
        if sample not in present:
            shown = ", ".join(present[:10]) + (
                f" and {len(present) - 10} more" if len(present) > 10 else ""
            )
            raise InputError(
                table.path,
                f"sample {sample!r} is not in the {id_column} column (it holds {shown})",
                "set the sample sheet's cnv_sample (sample=) to the sample as the file names it",
            )
        return sample
    if len(present) > 1:
        shown = ", ".join(present[:10]) + (
            f" and {len(present) - 10} more" if len(present) > 10 else ""
        )
        raise InputError(
            table.path,
            f"{len(present)} samples in one file ({shown})",
            "pass sample= (the sample sheet's cnv_sample) to choose one (segments are per sample)",
        )
    return present[0] if present else None


def check_expected_build(path: str, build: str | None, expected_build: str | None) -> None:
    """Refuse a file whose stated build differs from the run's."""
    if expected_build is not None and expected_build not in BUILDS:
        raise InputError(None, f"unknown genome build {expected_build!r}", f"use one of {BUILDS}")
    if build is not None and expected_build is not None and build != expected_build:
        raise InputError(
            path,
            f"the file header says {build} but the run is {expected_build}",
            f"give segments made on {expected_build} or set genome_build",
        )
