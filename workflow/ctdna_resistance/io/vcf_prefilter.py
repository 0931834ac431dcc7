"""Panel-region pre-filter for text VCFs without an index: keep only the lines htslib would return.

Parsing every record of a genome-sized VCF with cyvcf2 costs minutes; most of them lie outside the
panel. `write_region_lines` streams the file in large byte chunks (BGZF through htslib's decoder
in pysam, plain gzip through the `gzip` module, plain text as is), copies the header and only the
data lines that overlap the regions into a small VCF, and counts every data line so that the
records parsed from that small VCF keep their ordinal in the original file (``record_no``).

A line overlaps a region by the rule a tabix query applies (htslib ``tbx_parse1`` with the VCF
preset, then ``hts_itr_next``): the record spans ``POS .. POS + len(REF) - 1`` (``POS`` when REF
is empty), or up to ``INFO/END`` when that is given and lies beyond ``POS - 1``; it is returned
when that span and the region share a base. The indexed read and this scan therefore return the
same records. Sorted input is not assumed: whole chunks are skipped only when a C-speed check
proves that none of their lines can overlap, otherwise each line is looked at.
"""

from __future__ import annotations

import bisect
import contextlib
import gzip
import re
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

__all__ = [
    "RegionScan",
    "is_text_vcf",
    "kept_numbers",
    "merge_spans",
    "open_decompressed",
    "overlaps_regions",
    "write_region_lines",
]

# Large enough that the per-chunk Python work is negligible, small enough to keep memory flat.
CHUNK_BYTES = 1 << 22
# (record_no, line_no) pairs of kept lines go to a side file in batches of this many numbers, so
# that memory stays flat even when most of a huge file lies in the regions.
NUMBERS_BATCH = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
# strtol(..., 0) as htslib reads INFO/END: optional space and sign, then hex, octal or decimal.
_C_INTEGER = re.compile(rb"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


@dataclass
class RegionScan:
    """What one scan kept and counted.

    ``kept`` data lines were written (those overlapping a region); their 1-based data-record
    ordinals and file line numbers went to the numbers file (read back with `kept_numbers`).
    ``data_lines`` counts every non-empty line after the header (what htslib reads as a record),
    ``blank_lines`` the empty ones, ``header_lines`` the lines up to and including ``#CHROM``.
    """

    header_lines: int = 0
    data_lines: int = 0
    blank_lines: int = 0
    kept: int = 0


def _is_bgzf(head: bytes) -> bool:
    return len(head) >= 16 and head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"


def open_decompressed(path: str) -> BinaryIO:
    """A binary stream of the file's text: BGZF via htslib (pysam), gzip via zlib, else raw."""
    with open(path, "rb") as raw:
        head = raw.read(18)
    if head[:2] == _GZIP_MAGIC:
        if _is_bgzf(head):
            try:  # htslib's BGZF reader (libdeflate) decodes about twice as fast as zlib
                from pysam.libcbgzf import BGZFile
            except ImportError:  # pragma: no cover - pysam is a dependency
                pass
            else:
                return BGZFile(path, "rb")
        return gzip.open(path, "rb")
    return open(path, "rb")  # returned open: the caller closes it


def is_text_vcf(path: str) -> bool:
    """True for a plain or (b)gzipped text VCF; False for BCF, which cannot be scanned as lines."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
    try:  # the first gzip member alone tells: no need for the BGZF reader here
        with gzip.open(path, "rb") if gzipped else open(path, "rb") as stream:
            return not stream.read(4).startswith(b"BCF")
    except (EOFError, OSError, zlib.error):
        return False  # read whole by htslib, which reports what is wrong


def _c_strtol(text: bytes) -> int:
    """C strtol(text, NULL, 0): the leading integer (decimal, 0x hex, 0 octal), 0 when none."""
    match = _C_INTEGER.match(text)
    if not match:
        return 0
    sign, digits = match.groups()
    if digits[:2] in (b"0x", b"0X"):
        value = int(digits[2:], 16)
    elif digits.startswith(b"0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    return -value if sign == b"-" else value


def _info_end(info: bytes) -> int | None:
    """INFO/END as tabix reads it: 'END=' at the start of INFO or after a ';'; None if absent."""
    if info.startswith(b"END="):
        value = info[4:]
    elif b"END=" in info:
        # htslib looks for ';END=' only when the first 'END=' is not at the start (e.g. SVEND=)
        at = info.find(b";END=")
        if at < 0:
            return None
        value = info[at + 5 :]
    else:
        return None
    if value.startswith(b"."):
        return None
    return _c_strtol(value)


def overlaps_regions(line: bytes, spans: tuple[tuple[int, int], ...]) -> bool:
    """True when the data line's record shares a base with one of `spans` (1-based, inclusive).

    The record's span is the one tabix indexes. A line whose POS cannot be read is kept (True):
    htslib then reports it as it would in a whole-file read, rather than it vanishing here.
    """
    fields = line.split(b"\t", 8)
    try:
        pos = int(fields[1])
    except (IndexError, ValueError):
        return True
    begin = max(pos - 1, 0)  # 0-based, as tbx_parse1 clamps it
    ref = fields[3] if len(fields) > 3 else b""
    end = begin + len(ref) if ref else pos  # half-open end
    if len(fields) > 7:
        info_end = _info_end(fields[7])
        if info_end is not None and info_end > begin:
            end = info_end
    end = max(end, 1)
    # hts_itr_next: the record [begin, end) overlaps the query [start - 1, stop)
    return any(end > start - 1 and stop > begin for start, stop in spans)


class _Scanner:
    """Counts data lines and writes those overlapping the regions; see `write_region_lines`."""

    def __init__(
        self, spans: dict[bytes, tuple[tuple[int, int], ...]], out: BinaryIO, numbers: BinaryIO
    ):
        self.spans = spans
        self.out = out
        self.numbers = numbers
        self.batch = array("q")  # record_no, line_no, record_no, line_no ...
        self.scan = RegionScan()
        self.line_no = 0  # file lines seen so far, header included
        # POS of every line after the first, for a chunk whose lines are all on one contig
        self.positions = {
            contig: re.compile(b"\n" + re.escape(contig) + rb"\t(\d+)\t") for contig in spans
        }
        # first base and last base of each contig's regions, for a quick per-line refusal
        self.bounds = {contig: (ranges[0][0], max(e for _s, e in ranges))
                       for contig, ranges in spans.items()}  # fmt: skip

    def feed(self, data: bytes, stop: int) -> None:
        """Take ``data[:stop]``: whole lines, each ending in a newline."""
        if stop <= 0:
            return
        lines = data.count(b"\n", 0, stop)
        if not self._one_contig_chunk(data, stop, lines):
            self._each_line(data[:stop])

    def _keep(self, line: bytes, record_no: int, line_no: int) -> None:
        self.out.write(line)
        self.out.write(b"\n")
        self.scan.kept += 1
        self.batch.append(record_no)
        self.batch.append(line_no)
        if len(self.batch) >= NUMBERS_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the pending (record_no, line_no) pairs to the numbers file."""
        self.batch.tofile(self.numbers)
        del self.batch[:]

    def _one_contig_chunk(self, data: bytes, stop: int, lines: int) -> bool:
        """Handle a chunk whose lines are all on one contig at C speed; False if it is not one.

        Such a chunk is skipped whole when its contig has no region, or when no POS lies near
        one; otherwise only the lines near a region are looked at. Sort order is not assumed.
        """
        # (A blank line fails the count below: its newline is not followed by the contig.)
        tab = data.find(b"\t", 0, stop)
        if tab <= 0:
            return False
        contig = data[:tab]
        if b"\n" in contig:
            return False
        # Every line starts with this contig: the first does, and each newline but the last is
        # followed by it. One C-level count, whatever the sort order.
        if data.count(b"\n" + contig + b"\t", 0, stop) != lines - 1:
            return False
        spans = self.spans.get(contig)
        if spans is not None:
            # INFO/END can stretch a record anywhere: such chunks are looked at line by line.
            if data.find(b"END=", 0, stop) >= 0:
                return False
            second_tab = data.find(b"\t", tab + 1, stop)
            try:
                positions = [int(data[tab + 1 : second_tab])]
            except ValueError:
                return False
            positions += map(int, self.positions[contig].findall(data, 0, stop))
            if len(positions) != lines:
                return False  # a POS that is not digits: let the line-by-line path decide
            if self._near_regions(positions, spans, stop):
                self._near_lines(data[:stop], positions, spans)
        self.scan.data_lines += lines
        self.line_no += lines
        return True

    @staticmethod
    def _near_regions(positions: list[int], spans, reach: int) -> bool:
        """True if a POS lies in [start - reach, end] of a region (reach >= any REF length)."""
        ordered = sorted(positions)
        for start, end in spans:
            first = bisect.bisect_left(ordered, start - reach)
            if first < len(ordered) and ordered[first] <= end:
                return True
        return False

    def _near_lines(self, block: bytes, positions: list[int], spans) -> None:
        """Keep the overlapping lines of a one-contig chunk without INFO/END in it."""
        lines = block.split(b"\n")
        lines.pop()  # the block ends with a newline
        # Without INFO/END a record ends at POS + len(REF) - 1 and REF is shorter than its line:
        # only a line with start - longest line <= POS <= end can overlap [start, end].
        reach = max(map(len, lines))
        near: set[int] = set()
        for start, end in spans:
            low = start - reach
            near.update(i for i, pos in enumerate(positions) if low <= pos <= end)
        records, line_no = self.scan.data_lines, self.line_no
        for i in sorted(near):
            if overlaps_regions(lines[i], spans):
                self._keep(lines[i], records + i + 1, line_no + i + 1)

    def _each_line(self, block: bytes) -> None:
        scan, spans_of, bounds = self.scan, self.spans, self.bounds
        lines = block.split(b"\n")
        lines.pop()  # the block ends with a newline
        for line in lines:
            self.line_no += 1
            if not line:
                scan.blank_lines += 1  # htslib skips an empty line; it is not a record
                continue
            scan.data_lines += 1
            tab = line.find(b"\t")
            contig = line[:tab] if tab >= 0 else line
            spans = spans_of.get(contig)
            if spans is None:
                continue
            # Cheap refusals before the full parse: POS past every region, or a line too short
            # to reach the first one (no INFO/END).
            pos_end = line.find(b"\t", tab + 1)
            try:
                pos = int(line[tab + 1 : pos_end if pos_end >= 0 else len(line)])
            except ValueError:
                pos = None
            if pos is not None:
                first_start, last_end = bounds[contig]
                if pos > last_end:
                    continue
                if pos + len(line) < first_start and b"END=" not in line:
                    continue
            if overlaps_regions(line, spans):
                self._keep(line, scan.data_lines, self.line_no)


def merge_spans(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """1-based inclusive (start, end) spans sorted, overlapping or adjacent ones merged."""
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def write_region_lines(
    source: str, out: BinaryIO, regions: Iterable[tuple[str, int, int]], numbers: BinaryIO
) -> RegionScan:
    """Copy the header and the data lines overlapping `regions` from `source` to `out`.

    `regions` are (contig as the file names it, start, end), 1-based inclusive; lines are matched
    on CHROM exactly. The (record_no, line_no) of each kept line go to `numbers` (binary, read
    them back in order with `kept_numbers`). Raises OSError/EOFError (or zlib.error) when the
    file cannot be read or decompressed to its end; the caller names the file.
    """
    by_contig: dict[bytes, list[tuple[int, int]]] = {}
    for contig, start, end in regions:
        by_contig.setdefault(str(contig).encode(), []).append((int(start), int(end)))
    spans = {contig: merge_spans(ranges) for contig, ranges in by_contig.items()}
    scanner = _Scanner(spans, out, numbers)
    with open_decompressed(source) as stream:
        carry = _copy_header(stream, out, scanner)
        while True:
            chunk = stream.read(CHUNK_BYTES)
            if not chunk:
                break
            data = carry + chunk if carry else chunk
            cut = data.rfind(b"\n") + 1
            scanner.feed(data, cut)
            carry = data[cut:]
        if carry:  # a last line without its newline
            scanner.feed(carry + b"\n", len(carry) + 1)
    scanner.flush()
    return scanner.scan


def kept_numbers(numbers: BinaryIO) -> Iterator[tuple[int, int]]:
    """(record_no, line_no) of each kept line, in order, from a numbers file being read."""
    while True:
        batch = array("q")
        # the last batch is shorter: fromfile raises EOFError but keeps what it read
        with contextlib.suppress(EOFError):
            batch.fromfile(numbers, NUMBERS_BATCH)
        if not batch:
            return
        yield from zip(batch[0::2], batch[1::2], strict=True)


def _copy_header(stream: BinaryIO, out: BinaryIO, scanner: _Scanner) -> bytes:
    """Write the lines up to and including #CHROM; return the data bytes read past them."""
    data = b""
    found = -1  # where the #CHROM line starts, once seen
    search_from = 0
    while True:
        if found < 0:
            if data.startswith(b"#CHROM"):
                found = 0
            else:
                at = data.find(b"\n#CHROM", search_from)
                found = at + 1 if at >= 0 else -1
        if found >= 0:
            line_end = data.find(b"\n", found)
            if line_end >= 0:
                header, rest = data[: line_end + 1], data[line_end + 1 :]
                break
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:  # header only, its last line perhaps without a newline
            header, rest = data, b""
            if header and not header.endswith(b"\n"):
                header += b"\n"
            break
        # a chunk may end inside "\n#CHROM": look again from just before the old end
        search_from = max(len(data) - 7, 0)
        data += chunk
    out.write(header)
    scanner.scan.header_lines = header.count(b"\n")
    scanner.line_no = scanner.scan.header_lines
    return rest
