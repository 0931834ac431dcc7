"""Tiny reference FASTAs and indexed plasma BAMs for the panel hotspots, so CI can re-genotype.

Reference layout (the choice asked for in issue 4): each contig keeps its real chromosome name and
real coordinates, but is only as long as the last window it must hold; outside the windows it is
N. The FASTA is BGZF-compressed with one 65,269-base line per block: every block of N is the
same 108 bytes (+16 in the .gzi), written once and repeated, so a contig costs ~2 kB per Mb up to
its last window (chr3 up to PIK3CA, 179 Mb: ~340 kB; all 92 GRCh38 hotspots of the panel, six
chromosomes: 1.08 MB with the .gzi) and is written in about a second. ``.fai`` and ``.gzi`` are
written next to it, so samtools, bcftools and pysam read it as is; bcftools mpileup loads a whole
contig into memory (up to its last window) and skips reads past its end.

BAM layout: the @SQ lines carry the *real* chromosome lengths of the build (when ``build`` is given)
so that a build check on the BAM works although the FASTA contigs are short. Reads lie only inside
the reference windows.

Read model per fragment (all draws from numpy's default_rng(seed)):

* fragment length: 60% cfDNA-like 140-190 bp (mates of 100 bp overlap), 40% 200-320 bp (no overlap);
  one of the two mates covers the site; mates are a proper FR pair, R1/R2 order random;
* alleles: at each site locus the fragment carries one ALT with its VAF (ALTs at one locus are
  mutually exclusive) or the REF; both mates carry the fragment's alleles (same molecule);
* sequencing: each base independently substituted at ``error_rate``; base quality 30-40, with 8%
  of bases at 2-19 (below the default filter), independent in each mate, so overlapping mates
  sometimes disagree;
* flags: ``duplicate_fraction`` of fragments get a flagged duplicate copy (own errors); 3% have
  MAPQ 0-19; 1% QC-fail; 1% add a secondary and 0.5% a supplementary copy of one mate (MAPQ 60),
  so every read filter of the re-genotyper changes the counts.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.records import normalise_contig

# One FASTA line per BGZF block (65269 bases + newline = 65270 <= 65280, htslib's block payload):
# every block of N is then byte-identical, compressed once (to 82 bytes; 60-base lines cost 213).
LINE_BASES = 65269
_LINES_PER_BLOCK = 1
_BLOCK_BASES = LINE_BASES * _LINES_PER_BLOCK
_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_CONTIG_ORDER = {name: rank for rank, name in enumerate([*map(str, range(1, 23)), "X", "Y"])}
_BASES = "ACGT"

# Flags (SAM spec) used below.
_PAIRED, _PROPER, _REVERSE, _MATE_REVERSE = 0x1, 0x2, 0x10, 0x20
_READ1, _READ2, _SECONDARY, _QCFAIL, _DUP, _SUPPLEMENTARY = 0x40, 0x80, 0x100, 0x200, 0x400, 0x800


def _bgzf_block(payload: bytes, level: int = 9) -> bytes:
    """One BGZF block (a gzip member with the BC extra field) holding ``payload``."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    data = compressor.compress(payload) + compressor.flush()
    block_size = len(data) + 25 + 1  # 18-byte header + data + 8-byte trailer, minus 1
    header = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
    trailer = struct.pack("<II", zlib.crc32(payload), len(payload))
    return header + struct.pack("<H", block_size - 1) + data + trailer


def _merge_regions(regions: list[tuple[str, int, int]]) -> dict[str, list[list[int]]]:
    merged: dict[str, list[list[int]]] = {}
    for chrom, start, end in sorted(regions, key=lambda r: (_CONTIG_ORDER.get(r[0], 99), r)):
        spans = merged.setdefault(chrom, [])
        if spans and start <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return merged


def write_reference(
    path: str | os.PathLike,
    regions: list[tuple[str, int, int]],
    *,
    build: str,
    seed: int,
    known_bases: list[tuple[str, int, str]] = (),
    chr_style: bool = False,
) -> None:
    """Write a BGZF FASTA (+ .fai, .gzi) with random sequence in ``regions``, N elsewhere.

    ``regions`` are 1-based inclusive (chrom, start, end) in panel style ('12'); contigs are real
    chromosomes (named 'chr12' with ``chr_style``), each as long as its last region. ``known_bases``
    (chrom, pos, bases) are written at those positions, e.g. the panel's REF alleles, so that
    hotspot REF bases equal the panel's; they must lie inside ``regions``.
    """
    lengths = CONTIG_LENGTHS[build]
    rng = np.random.default_rng(seed)
    windows = _merge_regions([(normalise_contig(c), int(s), int(e)) for c, s, e in regions])
    sequences: dict[str, list[tuple[int, bytearray]]] = {}
    for chrom, spans in windows.items():
        if chrom not in lengths:
            raise ValueError(f"contig {chrom} is not a {build} chromosome (1-22, X, Y)")
        if spans[0][0] < 1 or spans[-1][1] > lengths[chrom]:
            raise ValueError(f"region on {chrom} lies outside 1-{lengths[chrom]} ({build})")
        sequences[chrom] = [
            (start, bytearray(rng.choice(list(b"ACGT"), size=end - start + 1).astype(np.uint8)))
            for start, end in spans
        ]
    for chrom, pos, bases in known_bases:
        chrom = normalise_contig(chrom)
        for offset, base in enumerate(bases.upper()):
            at = pos + offset
            window = next(
                (seq for start, seq in sequences.get(chrom, []) if start <= at < start + len(seq)),
                None,
            )
            if window is None:
                raise ValueError(f"known base {chrom}:{at} lies outside the reference regions")
            start = next(s for s, seq in sequences[chrom] if seq is window)
            window[at - start] = ord(base)

    n_block = _bgzf_block((b"N" * LINE_BASES + b"\n") * _LINES_PER_BLOCK)
    fai_rows: list[str] = []
    gzi: list[tuple[int, int]] = []  # (compressed offset, uncompressed offset) of block starts
    compressed = uncompressed = 0
    with open(path, "wb") as out:

        def emit(block: bytes, payload_size: int) -> None:
            nonlocal compressed, uncompressed
            if compressed:
                gzi.append((compressed, uncompressed))
            out.write(block)
            compressed += len(block)
            uncompressed += payload_size

        for chrom in sorted(sequences, key=lambda c: _CONTIG_ORDER[c]):
            name = f"chr{chrom}" if chr_style else chrom
            contig_length = sequences[chrom][-1][0] + len(sequences[chrom][-1][1]) - 1
            header = f">{name}\n".encode()
            emit(_bgzf_block(header), len(header))
            fai_rows.append(
                f"{name}\t{contig_length}\t{uncompressed}\t{LINE_BASES}\t{LINE_BASES + 1}\n"
            )
            for block_start in range(0, contig_length, _BLOCK_BASES):  # 0-based
                block_end = min(block_start + _BLOCK_BASES, contig_length)
                touching = [
                    (start - 1, seq)
                    for start, seq in sequences[chrom]
                    if start - 1 < block_end and start - 1 + len(seq) > block_start
                ]
                if not touching and block_end - block_start == _BLOCK_BASES:
                    emit(n_block, _BLOCK_BASES + _LINES_PER_BLOCK)
                    continue
                bases = bytearray(b"N" * (block_end - block_start))
                for start0, seq in touching:
                    lo, hi = max(start0, block_start), min(start0 + len(seq), block_end)
                    bases[lo - block_start : hi - block_start] = seq[lo - start0 : hi - start0]
                payload = b"".join(
                    bytes(bases[i : i + LINE_BASES]) + b"\n"
                    for i in range(0, len(bases), LINE_BASES)
                )
                emit(_bgzf_block(payload), len(payload))
        out.write(_BGZF_EOF)
    Path(f"{path}.fai").write_text("".join(fai_rows))
    with open(f"{path}.gzi", "wb") as index:
        index.write(struct.pack("<Q", len(gzi)))
        for pair in gzi:
            index.write(struct.pack("<QQ", *pair))


@dataclass(frozen=True)
class _Allele:
    pos: int
    ref: str
    alt: str
    vaf: float


@dataclass
class _Locus:
    start: int  # first reference base the alleles touch (1-based)
    end: int  # last reference base they touch
    alleles: list[_Allele]


def _edit(allele: _Allele) -> dict[int, tuple[str, str]]:
    """Reference position -> (kind, bases) edits that put ``allele`` on a haplotype."""
    ref, alt, pos = allele.ref, allele.alt, allele.pos
    if len(ref) == len(alt):
        return {pos + i: ("sub", alt[i]) for i in range(len(ref))}
    if ref[0] != alt[0] or (len(ref) > 1 and len(alt) > 1):
        raise ValueError(f"only SNV/MNV and anchored indels are simulated, not {ref}>{alt}")
    if len(ref) > len(alt):
        edits = {pos: ("sub", alt[0])}
        edits.update({pos + i: ("del", "") for i in range(1, len(ref))})
        return edits
    return {pos: ("ins", alt)}  # anchor base then the inserted bases


def _loci(sites: list[dict]) -> dict[str, list[_Locus]]:
    """Group sites whose reference spans overlap: their ALTs are exclusive on one molecule."""
    by_chrom: dict[str, list[_Locus]] = {}
    for site in sorted(sites, key=lambda s: (normalise_contig(str(s["chrom"])), int(s["pos"]))):
        chrom = normalise_contig(str(site["chrom"]))
        allele = _Allele(int(site["pos"]), str(site["ref"]).upper(), str(site["alt"]).upper(),
                         float(site["vaf"]))  # fmt: skip
        if not 0 <= allele.vaf <= 1:
            raise ValueError(f"VAF {allele.vaf} of {chrom}:{allele.pos} is not in [0, 1]")
        end = allele.pos + max(len(allele.ref), 1) - 1
        loci = by_chrom.setdefault(chrom, [])
        if loci and allele.pos <= loci[-1].end:
            loci[-1].end = max(loci[-1].end, end)
            loci[-1].alleles.append(allele)
        else:
            loci.append(_Locus(allele.pos, end, [allele]))
    for loci in by_chrom.values():
        for locus in loci:
            if sum(a.vaf for a in locus.alleles) > 1:
                raise ValueError(f"ALTs at {locus.start} have VAFs summing above 1")
    return by_chrom


def _clear_span(fasta: pysam.FastaFile, contig: str, locus: _Locus, reach: int) -> tuple[int, int]:
    """1-based inclusive span around the locus free of N (the reference window it lies in)."""
    start = max(1, locus.start - reach)
    end = min(fasta.get_reference_length(contig), locus.end + reach)
    sequence = fasta.fetch(contig, start - 1, end).upper()
    lo, hi = locus.start - start, locus.end - start
    if "N" in sequence[lo : hi + 1]:
        raise ValueError(f"{contig}:{locus.start} lies outside the reference windows")
    while lo > 0 and sequence[lo - 1] != "N":
        lo -= 1
    while hi + 1 < len(sequence) and sequence[hi + 1] != "N":
        hi += 1
    return start + lo, start + hi


def _haplotype(
    reference: str, ref_start: int, edits: dict[int, tuple[str, str]]
) -> list[tuple[int | None, str]]:
    """(reference position or None for inserted bases, base) along a molecule from ref_start."""
    entries: list[tuple[int | None, str]] = []
    for offset, base in enumerate(reference):
        pos = ref_start + offset
        kind, bases = edits.get(pos, ("ref", base))
        if kind == "del":
            continue
        if kind == "ins":
            entries.append((pos, bases[0]))
            entries.extend((None, b) for b in bases[1:])
        else:
            entries.append((pos, bases if kind == "sub" else base))
    return entries


def _aligned_read(entries: list[tuple[int | None, str]]) -> tuple[int, list[tuple[int, int]], str]:
    """(0-based start, CIGAR tuples, sequence) of a read over haplotype entries."""
    ops: list[list[int]] = []

    def push(op: int, n: int = 1) -> None:
        if ops and ops[-1][0] == op:
            ops[-1][1] += n
        else:
            ops.append([op, n])

    first = next(i for i, (pos, _) in enumerate(entries) if pos is not None)
    last = max(i for i, (pos, _) in enumerate(entries) if pos is not None)
    if first:
        push(4, first)  # a read starting inside an insertion: soft-clip, as aligners do
    previous = None
    for pos, _ in entries[first : last + 1]:
        if pos is None:
            push(1)
            continue
        if previous is not None and pos > previous + 1:
            push(2, pos - previous - 1)
        push(0)
        previous = pos
    if last + 1 < len(entries):
        push(4, len(entries) - last - 1)
    start = entries[first][0] - 1
    return start, [(op, n) for op, n in ops], "".join(base for _, base in entries)


def write_plasma_bam(
    path: str | os.PathLike,
    reference: str | os.PathLike,
    sites: list[dict],
    *,
    sample: str,
    seed: int,
    depth: int,
    error_rate: float,
    read_length: int = 100,
    duplicate_fraction: float = 0.05,
    build: str | None = None,
) -> None:
    """Write a coordinate-sorted, indexed BAM of read pairs over ``sites`` (see module docstring).

    ``sites`` are dicts with chrom (panel style), pos, ref, alt and vaf; each site's REF must equal
    the reference there. ``depth`` is the number of fragments drawn per locus (one mate of each
    covers it; neighbouring loci add their own). With ``build`` the @SQ lines list 1-22, X, Y with
    that build's real lengths; without it they copy the (short) FASTA contigs.
    """
    rng = np.random.default_rng(seed)
    fasta = pysam.FastaFile(str(reference))
    style = {normalise_contig(name): name for name in fasta.references}
    if build is not None:
        names = sorted(CONTIG_LENGTHS[build], key=lambda c: _CONTIG_ORDER[c])
        chr_style = any(name.startswith("chr") for name in fasta.references)
        sq = [{"SN": f"chr{c}" if chr_style else c, "LN": CONTIG_LENGTHS[build][c]} for c in names]
    else:
        sq = [{"SN": n, "LN": fasta.get_reference_length(n)} for n in fasta.references]
    tid = {entry["SN"]: i for i, entry in enumerate(sq)}
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": sq,
        "RG": [{"ID": sample, "SM": sample, "PL": "ILLUMINA"}],
    }
    reads: list[pysam.AlignedSegment] = []
    hdr = pysam.AlignmentHeader.from_dict(header)
    max_fragment = 320
    for chrom, loci in _loci(sites).items():
        if chrom not in style:
            raise ValueError(f"reference {reference} has no contig {chrom}")
        contig = style[chrom]
        if contig not in tid:
            raise ValueError(f"contig {contig} is not a {build} chromosome")
        for locus in loci:
            for allele in locus.alleles:
                have = fasta.fetch(contig, allele.pos - 1, allele.pos - 1 + len(allele.ref))
                if have.upper() != allele.ref:
                    raise ValueError(
                        f"REF {allele.ref} at {chrom}:{allele.pos} differs from the reference "
                        f"({have}); write it with write_reference(known_bases=...)"
                    )
        for locus in loci:
            clear_start, clear_end = _clear_span(fasta, contig, locus, max_fragment + 60)
            for fragment_no in range(depth):
                name = f"{sample}:{chrom}:{locus.start}:{fragment_no}"
                fragment = _draw_fragment(
                    rng, fasta, contig, loci, locus, (clear_start, clear_end), read_length
                )
                if fragment is None:
                    raise ValueError(
                        f"reference window around {chrom}:{locus.start} is too short for "
                        f"{read_length} bp reads; give it at least {max_fragment} bp each side"
                    )
                copies = [(name, 0)]
                if rng.random() < duplicate_fraction:
                    copies.append((f"{name}:dup", _DUP))
                mapq = int(rng.integers(0, 20)) if rng.random() < 0.03 else 60
                extra = _QCFAIL if rng.random() < 0.01 else 0
                for qname, flag in copies:
                    pair = _pair(rng, hdr, tid[contig], fragment, qname, flag | extra, mapq,
                                 error_rate, read_length, sample)  # fmt: skip
                    reads.extend(pair)
                    for kind, probability in ((_SECONDARY, 0.01), (_SUPPLEMENTARY, 0.005)):
                        if flag == 0 and rng.random() < probability:
                            copy = pysam.AlignedSegment.fromstring(pair[0].to_string(), hdr)
                            copy.flag = pair[0].flag | kind
                            reads.append(copy)
    reads.sort(key=lambda r: (r.reference_id, r.reference_start, r.query_name, r.flag))
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for read in reads:
            out.write(read)
    pysam.index(str(path))


@dataclass(frozen=True)
class _Fragment:
    entries: list[tuple[int | None, str]]
    length: int


def _draw_fragment(rng, fasta, contig, loci, locus, clear, read_length) -> _Fragment | None:
    """A molecule one of whose mates covers ``locus``, with alleles drawn at every locus it spans.

    Near the edge of a reference window a shorter fragment is drawn again (up to 20 times).
    """
    margin = 3
    # Extra reference bases so that a fragment carrying deletions still has `length` bases.
    slack = 1 + max(len(a.ref) - len(a.alt) for other in loci for a in other.alleles)
    for _ in range(20):
        length = int(rng.integers(140, 191) if rng.random() < 0.6 else rng.integers(200, 321))
        if rng.random() < 0.5:  # the left mate covers the locus
            low, high = locus.end + margin - read_length + 1, locus.start - margin
        else:  # the right mate covers it; start = its end - fragment length
            low = locus.end + margin + 1 - length
            high = locus.start - margin + read_length - length
        low, high = max(low, clear[0]), min(high, clear[1] - length - slack)
        if low <= high:
            break
    else:
        return None
    start = int(rng.integers(low, high + 1))
    end = start + length + slack
    edits: dict[int, tuple[str, str]] = {}
    for other in loci:
        if other.end < start or other.start > end:
            continue
        draw, cumulative = rng.random(), 0.0
        for allele in other.alleles:
            cumulative += allele.vaf
            if draw < cumulative:
                edits.update(_edit(allele))
                break
    reference = fasta.fetch(contig, start - 1, end).upper()
    entries = _haplotype(reference, start, edits)
    if len(entries) < length:
        return None
    return _Fragment(entries[:length], length)


def _pair(rng, hdr, ref_id, fragment, qname, flag, mapq, error_rate, read_length, sample):
    """The two mates of a fragment, with sequencing errors and qualities drawn per mate."""
    left_is_read1 = rng.random() < 0.5
    mates = []
    for side, entries in (
        ("left", fragment.entries[:read_length]),
        ("right", fragment.entries[fragment.length - read_length :]),
    ):
        start, cigar, sequence = _aligned_read(entries)
        bases = list(sequence)
        for i in np.flatnonzero(rng.random(len(bases)) < error_rate):
            bases[i] = _BASES[(_BASES.index(bases[i]) + int(rng.integers(1, 4))) % 4]
        quality = rng.integers(30, 41, size=len(bases))
        low = rng.random(len(bases)) < 0.08
        quality[low] = rng.integers(2, 20, size=int(low.sum()))
        read = pysam.AlignedSegment(hdr)
        read.query_name = qname
        read.query_sequence = "".join(bases)
        read.query_qualities = pysam.qualitystring_to_array(
            "".join(chr(33 + int(q)) for q in quality)
        )
        read.reference_id = ref_id
        read.reference_start = start
        read.cigartuples = cigar
        read.mapping_quality = mapq
        read.set_tag("RG", sample)
        is_read1 = left_is_read1 == (side == "left")
        read.flag = (
            flag | _PAIRED | _PROPER | (_READ1 if is_read1 else _READ2)
            | (_REVERSE if side == "right" else _MATE_REVERSE)
        )  # fmt: skip
        mates.append(read)
    return link_mates(mates, ref_id)


def link_mates(mates: list, ref_id: int) -> list:
    """Point a (left, right) read pair at each other: mate position and signed template length."""
    left, right = mates
    span = right.reference_end - left.reference_start
    for read, mate, sign in ((left, right, 1), (right, left, -1)):
        read.next_reference_id = ref_id
        read.next_reference_start = mate.reference_start
        read.template_length = sign * span
    return mates
