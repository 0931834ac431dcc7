"""Depth at given positions from a coverage file (SPEC 3.2 ``coverage`` column).

Formats, detected from the file name, then the content:

* mosdepth ``*.per-base.bed.gz``: chrom, start, end, depth (0-based half-open runs of equal depth);
  the depth of the run holding the site. Runs cover every base, so a site outside them is on a
  contig mosdepth did not see: None.
* mosdepth ``*.regions.bed.gz`` (``--by``): chrom, start, end, [name,] mean depth; the site gets
  the mean depth of the region covering it, rounded to the nearest integer; when regions overlap
  (amplicon panels) the lowest of their means, so a limit of detection is never overstated. A site
  in no region: None.
* ``samtools depth``: chrom, pos (1-based), depth, optionally a ``#CHROM POS ...`` header
  (``-H``); with several BAMs (several depth columns) it is refused. samtools depth omits
  zero-depth positions unless run with ``-a``, so a position missing from the file is None
  (unknown), not 0.

Refused with a message that says what to give instead: mosdepth ``thresholds.bed.gz`` (bases at or
above each threshold per region, not a depth), ``mosdepth.summary.txt`` and ``*.dist.txt``.
Contig names are matched after ``normalise_contig`` ('chr12' == '12'). When a ``.tbi``/``.csi``
index sits next to a bgzipped file, only the sites' positions are read (tabix); otherwise the file
is streamed once.
"""

from __future__ import annotations

import bisect
import gzip
import math
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import pysam

from ctdna_resistance.errors import InputError
from ctdna_resistance.records import normalise_contig

PER_BASE, REGIONS, SAMTOOLS_DEPTH = "mosdepth per-base", "mosdepth regions", "samtools depth"
_FIX = (
    "give mosdepth's .per-base.bed.gz or .regions.bed.gz, or `samtools depth -a` output, "
    "as the sample sheet's coverage column"
)


def _open_text(path: str):
    with open(path, "rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt") if compressed else open(path)


def _lines(path: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without newline); compression and truncation become InputError."""
    try:
        with _open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                yield number, line.rstrip("\n").rstrip("\r")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
        raise InputError(
            path, f"cannot read it ({error or type(error).__name__}): truncated or not text",
            "re-copy or regenerate the coverage file",
        ) from None  # fmt: skip


_REFUSED = {
    "thresholds": "a mosdepth thresholds file counts bases at or above each threshold per region; "
    "it holds no depth at a position",
    "summary": "a mosdepth summary/distribution file holds per-contig statistics, not the depth at "
    "a position",
}


def _refuse_by_name(path: str) -> None:
    name = Path(path).name.lower()
    if ".thresholds.bed" in name:
        raise InputError(path, _REFUSED["thresholds"], _FIX)
    if name.endswith(".summary.txt") or name.endswith(".dist.txt"):
        raise InputError(path, _REFUSED["summary"], _FIX)


def _is_int(text: str) -> bool:
    return text.isdigit()


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def detect_format(path: str | os.PathLike) -> str:
    """Which of the three depth formats ``path`` is; InputError when it is none of them."""
    path = str(path)
    if not os.path.isfile(path):
        raise InputError(path, "coverage file not found", _FIX)
    _refuse_by_name(path)
    name = Path(path).name.lower()
    for number, line in _lines(path):
        if not line.strip():
            continue
        if line.startswith("##fileformat=VCF"):
            raise InputError(path, "a VCF, not a depth file", _FIX, record=number)
        if line.startswith("#"):
            header = line.lstrip("#").split("\t")
            if [h.lower() for h in header[:2]] == ["chrom", "pos"]:
                return _samtools_columns(path, len(header), number)
            if len(header) > 4 and header[3].lower() == "region" and header[4].endswith("X"):
                raise InputError(path, _REFUSED["thresholds"], _FIX, record=number)
            continue
        fields = line.split("\t")
        if fields[:3] == ["chrom", "length", "bases"]:
            raise InputError(path, _REFUSED["summary"], _FIX, record=number)
        if ".per-base.bed" in name:
            return PER_BASE
        if ".regions.bed" in name:
            return REGIONS
        if len(fields) == 3 and _is_int(fields[1]) and _is_int(fields[2]):
            return SAMTOOLS_DEPTH
        if len(fields) == 4 and all(_is_int(f) for f in fields[1:]):
            return PER_BASE
        if (
            len(fields) in (4, 5)
            and _is_int(fields[1])
            and _is_int(fields[2])
            and _is_number(fields[-1])
        ):
            return REGIONS
        raise InputError(
            path,
            f"not a depth file: {len(fields)} columns {line[:60]!r} match neither mosdepth "
            "per-base/regions BED nor samtools depth",
            _FIX,
            record=number,
        )
    raise InputError(path, "the coverage file has no data lines", _FIX)


def _samtools_columns(path: str, n_columns: int, record: int) -> str:
    if n_columns != 3:
        raise InputError(
            path,
            f"samtools depth output with {n_columns - 2} depth columns (several BAMs)",
            "run samtools depth on this sample's BAM alone",
            record=record,
        )
    return SAMTOOLS_DEPTH


def _index_for(path: str) -> str | None:
    for suffix in (".tbi", ".csi"):
        if os.path.exists(path + suffix):
            return path + suffix
    return None


def _depth_value(path: str, fmt: str, number: int | None, text: str) -> float:
    """The depth cell of a line: a whole number (a finite mean for mosdepth regions), >= 0."""
    try:
        value = float(text) if fmt == REGIONS else int(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        kind = "a number" if fmt == REGIONS else "a whole number"
        raise InputError(
            path, f"malformed {fmt} line: depth {text[:20]!r} is not {kind}", _FIX, record=number
        )
    if value < 0:
        raise InputError(
            path,
            f"malformed {fmt} line: negative depth {text} (a read count cannot be below 0)",
            "regenerate the coverage file from the BAM (it was edited or corrupted)",
            record=number,
        )
    return value


def _parse(
    path: str, fmt: str, number: int | None, line: str
) -> tuple[str, int, int, float] | None:
    """(contig, first, last (1-based inclusive), depth) of one data line; None for comments."""
    if not line.strip() or line.startswith("#"):
        return None
    fields = line.split("\t")
    try:
        if fmt == SAMTOOLS_DEPTH:
            if len(fields) != 3:
                raise ValueError(f"{len(fields)} columns, expected 3")
            pos = int(fields[1])
            if pos < 1:
                raise ValueError(f"position {pos} < 1")
            depth = _depth_value(path, fmt, number, fields[2])
            return normalise_contig(fields[0]), pos, pos, depth
        if fmt == PER_BASE and len(fields) != 4:
            raise ValueError(f"{len(fields)} columns, expected 4")
        if len(fields) < 4:
            raise ValueError(f"{len(fields)} columns, expected 4 or more")
        start, end = int(fields[1]), int(fields[2])
        if start < 0 or end <= start:
            raise ValueError(f"end {end} <= start {start}" if end <= start else f"start {start}")
        depth = _depth_value(path, fmt, number, fields[3] if fmt == PER_BASE else fields[-1])
        return normalise_contig(fields[0]), start + 1, end, depth
    except (ValueError, IndexError) as error:
        raise InputError(
            path, f"malformed {fmt} line ({error}): {line[:60]!r}", _FIX, record=number
        ) from None


def _as_depth(fmt: str, value: float) -> int:
    return int(value) if fmt != REGIONS else math.floor(value + 0.5)


def read_depths(
    path: str | os.PathLike, sites: list[tuple[str, int]]
) -> dict[tuple[str, int], int | None]:
    """Depth at each (chrom, pos) site (panel contig style, 1-based); None where the file is silent.

    Keys are the sites as given. The format is detected (module docstring); an index next to a
    bgzipped file is used to read only the sites' positions.
    """
    path = str(path)
    fmt = detect_format(path)
    wanted = {(normalise_contig(str(chrom)), int(pos)) for chrom, pos in sites}
    found: dict[tuple[str, int], float] = {}
    index = _index_for(path)
    if index is not None:
        found = _read_indexed(path, index, fmt, wanted)
    else:
        by_chrom: dict[str, list[int]] = {}
        for chrom, pos in sorted(wanted):
            by_chrom.setdefault(chrom, []).append(pos)
        for number, line in _lines(path):
            parsed = _parse(path, fmt, number, line)
            if parsed is None or parsed[0] not in by_chrom:
                continue
            chrom, first, last, depth = parsed
            positions = by_chrom[chrom]
            for i in range(bisect.bisect_left(positions, first), len(positions)):
                if positions[i] > last:
                    break
                key = (chrom, positions[i])
                found[key] = depth if key not in found else min(found[key], depth)
    return {
        (chrom, pos): (
            None
            if (normalise_contig(str(chrom)), int(pos)) not in found
            else _as_depth(fmt, found[(normalise_contig(str(chrom)), int(pos))])
        )
        for chrom, pos in sites
    }


def _read_indexed(
    path: str, index: str, fmt: str, wanted: set[tuple[str, int]]
) -> dict[tuple[str, int], float]:
    try:
        tabix = pysam.TabixFile(path, index=index)
    # htslib cannot seek in a file that is gzip but not BGZF (a damaged or re-gzipped .bed.gz):
    # pysam says so with NotImplementedError
    except (OSError, ValueError, NotImplementedError) as error:
        raise InputError(
            path, f"cannot open it with its index {Path(index).name} ({error})",
            "re-index it (tabix -p bed; samtools depth: tabix -s1 -b2 -e2) or remove the index",
        ) from None  # fmt: skip
    found: dict[tuple[str, int], float] = {}
    with tabix:
        contigs = {normalise_contig(name): name for name in tabix.contigs}
        for chrom, pos in sorted(wanted):
            if chrom not in contigs:
                continue
            try:
                lines = list(tabix.fetch(contigs[chrom], pos - 1, pos))
            except (OSError, ValueError, NotImplementedError) as error:
                raise InputError(
                    path, f"cannot read {chrom}:{pos} through the index ({error})",
                    "re-copy or regenerate the coverage file and its index",
                ) from None  # fmt: skip
            for line in lines:
                parsed = _parse(path, fmt, None, line)
                if parsed is None or not parsed[1] <= pos <= parsed[2]:
                    continue
                depth = parsed[3]
                found[(chrom, pos)] = (
                    depth if (chrom, pos) not in found else min(found[(chrom, pos)], depth)
                )
    return found
