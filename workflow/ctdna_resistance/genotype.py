"""Tumour-informed re-genotyping: count REF/ALT reads at known alterations in a plasma BAM/CRAM.

Counting rules (they reproduce ``samtools mpileup`` / ``bcftools mpileup -B -A`` with the same
``-q``/``-Q``/``--ff`` filters, which ``tests/unit/test_genotype.py`` checks on simulated BAMs):

* Reads: unmapped reads are never counted; duplicate, secondary, supplementary and QC-fail reads are
  skipped as ``GenotypeSettings`` says; reads with MAPQ < ``min_mapping_quality`` are skipped
  (MAPQ 255, "unavailable", passes, as in htslib). Pairs that are not "proper" are kept (like
  ``mpileup -A``): plasma fragments are short and discordant pairs are not artefacts per se.
* SNV: the read's base at the position; a read with a deletion or intron there is not counted.
  MNV: the read must align a base at every position; quality is the lowest of them; ALT when all
  bases equal ALT, REF when all equal REF, else "other".
* Indels are counted by their alignment at the VCF position (the anchor base): a read supports a
  deletion/insertion when its CIGAR has exactly that event right after the anchor base (same length;
  for an insertion the same inserted bases), supports REF when no indel follows the anchor, and
  counts as "other" when a different indel does. The quality filter applies to the anchor base,
  as in samtools mpileup. Indels are taken where the aligner put them; callers and aligners both
  left-align, which the VCF normalisation assumes too.
* Base quality: a base counts when its quality (after the overlap rule) is >= ``min_base_quality``.
  Bases called N count as "other" (in depth, not as REF or ALT).
* Overlapping mates (``count_overlapping_mates_once``) follow htslib's pileup overlap rule, the one
  bcftools and samtools mpileup apply by default (``tweak_overlap_quality``, htslib 1.16-1.21), at
  the site's bases: for a proper pair whose mates both pass the read filters and both align a base
  there, if the bases agree one mate keeps quality min(q1 + q2, 200) and the other gets 0, so the
  fragment counts once (even if each quality alone was below the threshold); if they disagree the
  higher-quality mate keeps int(0.8 * q) and the other gets 0, so the fragment counts at most once,
  for the better base, and not at all when 0.8 * q falls below the threshold. Which mate keeps the
  quality on a tie is htslib's: the parity of a hash of the read name (``_htslib_keeps_first``).
  Not reproduced: bcftools' --delta-BQ cap (neighbour quality + 30; it cannot bite at the default
  threshold 20) and BAQ (compare with ``-B``); htslib >= 1.17 also lowers a mate's quality over the
  other mate's deletion, which only matters at sites where mates disagree about a deletion.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

import pysam

from ctdna_resistance.errors import InputError
from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.records import BUILDS, normalise_contig

_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_MATCH_OPS = (0, 7, 8)  # M, =, X
_INS, _DEL, _REF_SKIP, _SOFT_CLIP = 1, 2, 3, 4
_FIX_BAM = "give the plasma BAM/CRAM from the sample sheet (check it with samtools quickcheck)"


@dataclass(frozen=True)
class AlleleCount:
    """Reads at one site of one BAM after filters: depth = ref_reads + alt_reads + other_reads."""

    chrom: str  # panel style ('12')
    pos: int  # 1-based, as in the VCF
    ref: str
    alt: str
    depth: int
    alt_reads: int
    ref_reads: int
    other_reads: int
    # by read strand (forward, reverse): what a strand-aware test against a strand-biased
    # background needs (background.SiteModel.strand_errors)
    depth_fwd: int = 0
    alt_fwd: int = 0

    @property
    def depth_rev(self) -> int:
        return self.depth - self.depth_fwd

    @property
    def alt_rev(self) -> int:
        return self.alt_reads - self.alt_fwd

    @property
    def vaf(self) -> float | None:
        """ALT reads / depth, None when no read was counted."""
        return self.alt_reads / self.depth if self.depth else None


@dataclass(frozen=True)
class GenotypeSettings:
    """Read and base filters of the re-genotyper (defaults: SPEC 5.2)."""

    min_base_quality: int = 20
    min_mapping_quality: int = 20
    skip_duplicates: bool = True
    skip_secondary: bool = True
    skip_supplementary: bool = True
    skip_qcfail: bool = True
    count_overlapping_mates_once: bool = True

    @property
    def skip_flags(self) -> int:
        """SAM flag bits of reads that are not counted (unmapped always)."""
        return (
            0x4
            | (0x400 if self.skip_duplicates else 0)
            | (0x100 if self.skip_secondary else 0)
            | (0x800 if self.skip_supplementary else 0)
            | (0x200 if self.skip_qcfail else 0)
        )


def _htslib_keeps_first(query_name: str) -> bool:
    """Whether htslib gives merged quality to the first mate: Wang(X31(name)) & 1 (khash.h)."""
    mask = 0xFFFFFFFF
    data = query_name.encode()
    key = data[0] if data else 0
    for byte in data[1:]:
        key = ((key << 5) - key + byte) & mask
    key = (key + ~(key << 15)) & mask
    key ^= key >> 10
    key = (key + (key << 3)) & mask
    key ^= key >> 6
    key = (key + ~(key << 11)) & mask
    key ^= key >> 16
    return bool(key & 1)


@dataclass(frozen=True)
class _Site:
    chrom: str
    pos: int
    ref: str
    alt: str
    kind: str  # "substitution", "deletion", "insertion", "complex"

    @property
    def positions(self) -> range:
        """Reference positions whose bases (and qualities) decide the read's allele."""
        if self.kind == "substitution":
            return range(self.pos, self.pos + len(self.ref))
        if self.kind in ("deletion", "insertion"):
            return range(self.pos, self.pos + 1)  # the anchor base
        return range(self.pos, self.pos + len(self.ref))


def _site(chrom: str, pos: int, ref: str, alt: str) -> _Site:
    ref, alt = ref.upper(), alt.upper()
    if not ref or not alt or set(ref + alt) - set("ACGTN") or pos < 1:
        raise ValueError(f"site {chrom}:{pos} {ref}>{alt} is not a plain-base allele")
    if len(ref) == len(alt):
        kind = "substitution"
    elif ref[0] == alt[0] and min(len(ref), len(alt)) == 1:
        kind = "deletion" if len(ref) > len(alt) else "insertion"
    else:
        kind = "complex"
    return _Site(normalise_contig(chrom), pos, ref, alt, kind)


@dataclass
class _Observation:
    """One read at one site, before the overlap rule and the base-quality filter."""

    read: pysam.AlignedSegment
    bases: dict[int, str]  # reference position -> read base (aligned positions only)
    quals: dict[int, int]
    allele: str  # "ref", "alt", "other"


def _walk(read: pysam.AlignedSegment, first: int, last: int):
    """Bases at reference positions first..last (1-based) and the indel right after each.

    Returns (bases, quals, after) with after[pos] = ("I", inserted bases) or ("D", length) when the
    CIGAR has an insertion/deletion immediately after the aligned base at pos.
    """
    bases: dict[int, str] = {}
    quals: dict[int, int] = {}
    after: dict[int, tuple[str, object]] = {}
    sequence = read.query_sequence or ""
    qualities = read.query_qualities
    ref_pos = read.reference_start + 1
    query_pos = 0
    last_aligned = None
    for op, length in read.cigartuples or ():
        if op in _MATCH_OPS:
            for i in range(length):
                pos = ref_pos + i
                if first <= pos <= last:
                    bases[pos] = sequence[query_pos + i]
                    quals[pos] = qualities[query_pos + i] if qualities is not None else 255
            ref_pos += length
            query_pos += length
            last_aligned = ref_pos - 1
        elif op == _INS:
            if last_aligned is not None and first <= last_aligned <= last:
                after.setdefault(last_aligned, ("I", sequence[query_pos : query_pos + length]))
            query_pos += length
        elif op == _DEL:
            if last_aligned is not None and first <= last_aligned <= last:
                after.setdefault(last_aligned, ("D", length))
            ref_pos += length
            last_aligned = None
        elif op == _REF_SKIP:
            ref_pos += length
            last_aligned = None
        elif op == _SOFT_CLIP:
            query_pos += length
        if ref_pos > last + 1 and op in _MATCH_OPS:
            break
    return bases, quals, after


def _observe(read: pysam.AlignedSegment, site: _Site) -> _Observation | None:
    """The read's allele at the site, or None when the read does not inform it."""
    positions = site.positions
    if site.kind == "complex":
        return _observe_complex(read, site)
    bases, quals, after = _walk(read, positions.start, positions.stop - 1)
    if any(pos not in bases for pos in positions):
        return None  # a deletion/intron at the site, or the read ends inside it
    if site.kind == "substitution":
        observed = "".join(bases[pos] for pos in positions).upper()
        if observed == site.alt:
            allele = "alt"
        elif observed == site.ref:
            allele = "ref"
        else:
            allele = "other"
        return _Observation(read, bases, quals, allele)
    event = after.get(site.pos)
    if event is None:
        allele = "ref"
    elif site.kind == "deletion":
        allele = "alt" if event == ("D", len(site.ref) - len(site.alt)) else "other"
    else:
        inserted = str(event[1]).upper() if event[0] == "I" else None
        allele = "alt" if inserted == site.alt[1:] else "other"
    return _Observation(read, bases, quals, allele)


def _observe_complex(read: pysam.AlignedSegment, site: _Site) -> _Observation | None:
    """Delins: the read's sequence between the first and last REF base must span both ends."""
    first, last = site.pos, site.pos + len(site.ref) - 1
    pairs = read.get_aligned_pairs()
    ref_to_query = {r + 1: q for q, r in pairs if r is not None and q is not None}
    if first not in ref_to_query or last not in ref_to_query:
        return None
    start, end = ref_to_query[first], ref_to_query[last]
    sequence = (read.query_sequence or "")[start : end + 1].upper()
    quals = dict.fromkeys((first,), min(read.query_qualities[start : end + 1], default=0))
    allele = "alt" if sequence == site.alt else "ref" if sequence == site.ref else "other"
    return _Observation(read, {first: sequence[:1]}, quals, allele)


def _overlaps_possible(read: pysam.AlignedSegment) -> bool:
    """htslib's overlap_push conditions: a proper pair, mate mapped on the same contig."""
    if read.mate_is_unmapped or not read.is_proper_pair:
        return False
    if read.next_reference_id >= 0 and read.next_reference_id != read.reference_id:
        return False
    return not (
        abs(read.template_length) >= 2 * read.query_length
        and read.next_reference_start >= read.reference_end
    )


def _merge_mates(first: _Observation, second: _Observation) -> None:
    """Apply htslib's overlap quality rule at the site's bases (first = the mate read earlier)."""
    keep_first = _htslib_keeps_first(first.read.query_name)
    for pos in sorted(set(first.bases) & set(second.bases)):
        qa, qb = first.quals[pos], second.quals[pos]
        if first.bases[pos] == second.bases[pos]:
            merged = min(qa + qb, 200)
            first.quals[pos], second.quals[pos] = (merged, 0) if keep_first else (0, merged)
        elif qa > qb:
            first.quals[pos], second.quals[pos] = int(0.8 * qa), 0
        elif qa < qb:
            first.quals[pos], second.quals[pos] = 0, int(0.8 * qb)
        else:
            reduced = int(0.8 * qa)
            first.quals[pos], second.quals[pos] = (reduced, 0) if keep_first else (0, reduced)


def _count_site(
    bam: pysam.AlignmentFile, contig: str, site: _Site, settings: GenotypeSettings
) -> AlleleCount:
    observations: list[_Observation] = []
    waiting: dict[str, _Observation] = {}  # first mate seen, by read name
    start = site.pos - 1
    end = site.pos - 1 + max(len(site.ref), 1)
    for read in bam.fetch(contig, start, end):
        if read.flag & settings.skip_flags or read.mapping_quality < settings.min_mapping_quality:
            continue
        observation = _observe(read, site)
        if observation is None:
            continue
        observations.append(observation)
        if not (settings.count_overlapping_mates_once and read.is_paired):
            continue
        if not _overlaps_possible(read):
            continue
        name = read.query_name
        if name in waiting:
            _merge_mates(waiting.pop(name), observation)
        elif read.next_reference_start >= read.reference_start:
            waiting[name] = observation  # htslib only waits for a mate still to arrive
    counts = {"ref": 0, "alt": 0, "other": 0}
    forward = {"ref": 0, "alt": 0, "other": 0}
    for observation in observations:
        if min(observation.quals.values()) >= settings.min_base_quality:
            counts[observation.allele] += 1
            forward[observation.allele] += not observation.read.is_reverse
    return AlleleCount(
        chrom=site.chrom, pos=site.pos, ref=site.ref, alt=site.alt,
        depth=sum(counts.values()), alt_reads=counts["alt"], ref_reads=counts["ref"],
        other_reads=counts["other"], depth_fwd=sum(forward.values()), alt_fwd=forward["alt"],
    )  # fmt: skip


def open_alignments(path: str, reference: str | None) -> pysam.AlignmentFile:
    if not os.path.exists(path):
        raise InputError(path, "BAM/CRAM file not found", _FIX_BAM)
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise InputError(path, "not a BAM/CRAM file (empty or not a file)", _FIX_BAM)
    with open(path, "rb") as handle:
        magic = handle.read(4)
        if magic[:3] == b"\x1f\x8b\x08":  # BGZF: a BAM must end with the empty EOF block
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - len(_BGZF_EOF)))
            if size < 2 * len(_BGZF_EOF) or handle.read() != _BGZF_EOF:
                raise InputError(
                    path, "truncated BAM (no BGZF end-of-file block)",
                    "re-copy the BAM or regenerate it (samtools quickcheck finds this)",
                )  # fmt: skip
        elif magic != b"CRAM":
            raise InputError(path, "not a BAM or CRAM (unknown file signature)", _FIX_BAM)
    try:
        bam = pysam.AlignmentFile(path, "r", reference_filename=reference)
    # gzip that is not BGZF (a damaged block header, a re-gzipped BAM): NotImplementedError
    except (OSError, ValueError, NotImplementedError) as error:
        raise InputError(path, f"htslib cannot open it ({error})", _FIX_BAM) from None
    if not bam.has_index():
        bam.close()
        raise InputError(
            path, "no index (.bai/.csi/.crai) next to the BAM/CRAM",
            f"index it: samtools index {path}",
        )  # fmt: skip
    return bam


def check_build(path: str, bam: pysam.AlignmentFile, expected_build: str) -> None:
    """Refuse a BAM whose 1-22/X/Y @SQ lengths are not those of ``expected_build``."""
    if expected_build not in BUILDS:
        raise ValueError(f"unknown build {expected_build!r}; use one of {BUILDS}")
    expected = CONTIG_LENGTHS[expected_build]
    primary = [
        (name, length)
        for name, length in zip(bam.references, bam.lengths, strict=True)
        if normalise_contig(name) in expected
    ]
    if not primary:
        raise InputError(
            path, "no 1-22/X/Y contig in the BAM header, so its build cannot be checked",
            f"align against a {expected_build} reference with standard contig names",
        )  # fmt: skip
    for name, length in primary:
        if length == expected[normalise_contig(name)]:
            continue
        others = [b for b in BUILDS if CONTIG_LENGTHS[b][normalise_contig(name)] == length]
        found = f"the {others[0]} length" if others else "no known build's length"
        raise InputError(
            path,
            f"@SQ {name} has length {length} ({found}), but the sample's calls are "
            f"{expected_build} ({expected[normalise_contig(name)]})",
            f"give the BAM aligned to {expected_build}, or set the sample sheet/VCF build",
        )


def _check_sample(path: str, bam: pysam.AlignmentFile, expected: Iterable[str | None]) -> None:
    """Refuse a BAM whose read groups name samples (@RG SM) none of which is ``expected``.

    A BAM without SM tags cannot be checked and is read; a BAM of several samples is read when
    one of them is the draw's (e.g. a plasma BAM with read groups per lane under two aliases).
    """
    names = sorted({str(n) for n in expected if n})
    if not names:
        return
    groups = bam.header.to_dict().get("RG", [])
    tagged = sorted({str(group["SM"]) for group in groups if group.get("SM")})
    if tagged and not set(tagged) & set(names):
        raise InputError(
            path,
            f"the BAM's read groups are of sample {', '.join(tagged)} (@RG SM), not of "
            f"{' / '.join(names)}: another sample's BAM",
            "give this draw's BAM in the sample sheet's bam column (or fix its @RG SM with "
            "samtools addreplacerg)",
        )


def count_alleles(
    bam_path: str | os.PathLike,
    sites: Iterable[tuple[str, int, str, str]],
    *,
    settings: GenotypeSettings = GenotypeSettings(),
    reference: str | None = None,
    expected_build: str | None = None,
    expected_samples: Iterable[str | None] = (),
) -> list[AlleleCount]:
    """Count REF/ALT/other reads at each (chrom, pos, ref, alt) site, in the order given.

    Sites use the panel's contig style ('12'); the BAM may use 'chr12'. ``reference`` (FASTA) is
    needed for CRAM and, when given, each site's REF is checked against it. With
    ``expected_build`` the BAM's @SQ lengths must be that build's. With ``expected_samples`` (the
    draw's sample-sheet ID and its VCF sample column) a BAM whose @RG SM tags name none of them
    is refused. Bad input raises InputError.
    """
    path = str(bam_path)
    site_list = [_site(str(c), int(p), str(r), str(a)) for c, p, r, a in sites]
    bam = open_alignments(path, reference)
    try:
        _check_sample(path, bam, expected_samples)
        if expected_build is not None:
            check_build(path, bam, expected_build)
        contigs = {normalise_contig(name): name for name in bam.references}
        fasta = _open_reference(reference) if reference else None
        results = []
        for site in site_list:
            contig = contigs.get(site.chrom)
            if contig is None:
                raise InputError(
                    path, f"no contig {site.chrom} (or chr{site.chrom}) in the BAM header",
                    "give the BAM aligned to the same reference as the calls",
                )  # fmt: skip
            if fasta is not None:
                _check_ref(reference, fasta, site)
            try:
                results.append(_count_site(bam, contig, site, settings))
            except OSError as error:
                raise InputError(
                    path, f"cannot read alignments at {contig}:{site.pos} ({error})",
                    "the BAM is truncated or corrupt: re-copy or regenerate it",
                ) from None  # fmt: skip
        return results
    finally:
        # htslib reports a corrupt stream again on close; the InputError above says why.
        with contextlib.suppress(OSError):
            bam.close()


def _open_reference(reference: str) -> pysam.FastaFile:
    try:
        return pysam.FastaFile(reference)
    except (OSError, ValueError) as error:
        raise InputError(
            reference, f"cannot open the reference FASTA ({error})",
            "give an indexed FASTA (samtools faidx)",
        ) from None  # fmt: skip


def _check_ref(reference: str, fasta: pysam.FastaFile, site: _Site) -> None:
    contig = {normalise_contig(n): n for n in fasta.references}.get(site.chrom)
    if contig is None:
        raise InputError(reference, f"no contig {site.chrom} in the reference FASTA",
                         "give the FASTA the BAM was aligned to")  # fmt: skip
    have = fasta.fetch(contig, site.pos - 1, site.pos - 1 + len(site.ref)).upper()
    if have != site.ref:
        raise InputError(
            reference,
            f"REF {site.ref} at {site.chrom}:{site.pos} but the reference has {have or 'nothing'}",
            "the calls and the BAM use different references; give the matching FASTA",
        )
