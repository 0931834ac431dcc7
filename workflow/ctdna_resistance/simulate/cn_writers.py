"""Simulated copy-number segment files: CNVkit ``.cns`` and the generic SEG, whole genome.

Every draw gets arm-level segments over 1-22 and X (p and q arms split at the centromere; the short
arms of the acrocentric chromosomes 13, 14, 15, 21 and 22 hold no mappable sequence and are left
out, as segmenters do) plus a focal segment over each amplicon present in that draw, which splits
its arm segment in three. The value of a segment is the plasma log2 ratio of its tumour copy
number C at the draw's tumour fraction p,

    r = log2((p * C + 2 * (1 - p)) / 2),

plus noise N(0, (0.1 / sqrt(bins))^2) truncated at two standard deviations, so that a segment of
20 bins moves by at most 0.045 (3% in plasma copy number) and a scenario built at a margin from a
threshold stays on its side. Bins are one per 100 kb with at least 20 per segment, like the
antitarget bins of a CNVkit panel run.

Centromere positions are approximate (the middle of the UCSC cytoBand ``acen`` bands, rounded to
0.1 Mb): they only decide where arm segments end, and every panel gene lies well inside an arm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.simulate.genome import CONTIG_RANK, styled_contig

BIN_BP = 100_000
MIN_SEGMENT_BINS = 20
NOISE_SD_ONE_BIN = 0.1
ARM_GAP_BP = 1_000_000  # kept clear on each side of a centromere
TELOMERE_BP = 10_000
ACROCENTRIC = frozenset({"13", "14", "15", "21", "22"})
CN_CONTIGS = (*(str(n) for n in range(1, 23)), "X")

# Approximate centromere midpoints (Mb), UCSC cytoBand acen bands of hg38 and hg19.
_CENTROMERE_MB = {
    "GRCh38": {
        "1": 123.4, "2": 93.9, "3": 90.9, "4": 50.0, "5": 48.8, "6": 59.8, "7": 60.1, "8": 45.2,
        "9": 43.0, "10": 39.8, "11": 53.4, "12": 35.5, "13": 17.7, "14": 17.2, "15": 19.0,
        "16": 36.8, "17": 25.1, "18": 18.5, "19": 26.2, "20": 28.1, "21": 12.0, "22": 15.0,
        "X": 60.6,
    },
    "GRCh37": {
        "1": 125.0, "2": 93.3, "3": 91.0, "4": 50.4, "5": 48.4, "6": 61.0, "7": 59.9, "8": 45.6,
        "9": 49.0, "10": 40.2, "11": 53.7, "12": 35.8, "13": 17.9, "14": 17.6, "15": 19.0,
        "16": 36.6, "17": 24.0, "18": 17.2, "19": 26.5, "20": 27.5, "21": 13.2, "22": 14.7,
        "X": 60.6,
    },
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Arm:
    """One chromosome arm: where its segment lies (1-based, inclusive)."""

    chrom: str
    arm: str  # 'p' or 'q'
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class FocalGain:
    """An amplicon present in a draw: its span and the tumour copy number (mean over cells)."""

    chrom: str
    start: int
    end: int
    tumour_cn: float
    label: str  # gene name(s) written in CNVkit's gene column


@dataclass(frozen=True, slots=True)
class CnSegment:
    """One written segment (1-based, inclusive) with its log2 ratio and bin count."""

    chrom: str
    start: int
    end: int
    log2: float
    n_bins: int
    genes: str  # CNVkit gene column ('-' when no panel gene lies in it)


def chromosome_arms(build: str) -> list[Arm]:
    """The arms that carry segments, in contig order."""
    arms = []
    for chrom in CN_CONTIGS:
        length = CONTIG_LENGTHS[build][chrom]
        centre = int(_CENTROMERE_MB[build][chrom] * 1_000_000)
        if chrom not in ACROCENTRIC:
            arms.append(Arm(chrom, "p", TELOMERE_BP + 1, centre - ARM_GAP_BP))
        arms.append(Arm(chrom, "q", centre + ARM_GAP_BP + 1, length - TELOMERE_BP))
    return arms


def arm_of(build: str, chrom: str, pos: int) -> Arm | None:
    """The arm holding chrom:pos, or None (centromere gap, telomere, Y)."""
    for arm in chromosome_arms(build):
        if arm.chrom == chrom and arm.start <= pos <= arm.end:
            return arm
    return None


def plasma_log2(tumour_cn: float, tumour_fraction: float) -> float:
    """log2 ratio of plasma DNA: tumour copies C at fraction p over a diploid normal."""
    return math.log2((tumour_fraction * tumour_cn + 2.0 * (1.0 - tumour_fraction)) / 2.0)


def bins_for(length_bp: int) -> int:
    """Bins (CNVkit probes / SEG num.mark) behind a segment of this length."""
    return max(MIN_SEGMENT_BINS, round(length_bp / BIN_BP))


def _noise(rng: np.random.Generator, n_bins: int) -> float:
    sd = NOISE_SD_ONE_BIN / math.sqrt(n_bins)
    return float(np.clip(rng.normal(0.0, sd), -2 * sd, 2 * sd))


def layout_segments(
    build: str,
    tumour_fraction: float,
    rng: np.random.Generator,
    *,
    arm_cn: dict[tuple[str, str], float] | None = None,
    focal: list[FocalGain] = (),
    genes_in: callable = lambda chrom, start, end: "-",
) -> list[CnSegment]:
    """Whole-genome segments of one draw: arms at their tumour CN (2 unless in ``arm_cn``), each
    split around the focal gains it holds. Values are drawn from ``rng`` in contig order."""
    arm_cn = arm_cn or {}
    segments = []
    for arm in chromosome_arms(build):
        pieces: list[tuple[int, int, float]] = []  # (start, end, tumour CN)
        base_cn = arm_cn.get((arm.chrom, arm.arm), 2.0)
        cursor = arm.start
        inside = sorted(
            (gain for gain in focal if gain.chrom == arm.chrom and arm.start < gain.start
             and gain.end < arm.end),
            key=lambda gain: gain.start,
        )  # fmt: skip
        for gain in inside:
            pieces.append((cursor, gain.start - 1, base_cn))
            pieces.append((gain.start, gain.end, gain.tumour_cn))
            cursor = gain.end + 1
        pieces.append((cursor, arm.end, base_cn))
        for start, end, cn in pieces:
            n_bins = bins_for(end - start + 1)
            value = plasma_log2(cn, tumour_fraction) + _noise(rng, n_bins)
            segments.append(
                CnSegment(arm.chrom, start, end, value, n_bins, genes_in(arm.chrom, start, end))
            )
    return sorted(segments, key=lambda s: (CONTIG_RANK[s.chrom], s.start))


def render_cnvkit_cns(segments: list[CnSegment], chr_style: bool) -> str:
    """CNVkit 0.9 ``.cns``: BED-style 0-based start, end exclusive; depth and weight as CNVkit
    derives them from the bins (depth ~ 2^log2 of a 1x-normalised run; weight ~ 0.8 per bin)."""
    lines = ["\t".join(("chromosome", "start", "end", "gene", "log2", "depth", "probes", "weight"))]
    for seg in segments:
        depth = 2.0**seg.log2
        lines.append(
            "\t".join(
                [
                    styled_contig(seg.chrom, chr_style),
                    str(seg.start - 1),
                    str(seg.end),
                    seg.genes,
                    f"{seg.log2:.6g}",
                    f"{depth:.6g}",
                    str(seg.n_bins),
                    f"{0.8 * seg.n_bins:.6g}",
                ]
            )
        )
    return "\n".join(lines) + "\n"


def render_seg(segments: list[CnSegment], sample: str, chr_style: bool) -> str:
    """The generic SEG of DNAcopy/IGV: ID, chrom, loc.start, loc.end (1-based, inclusive),
    num.mark, seg.mean (log2)."""
    lines = ["\t".join(("ID", "chrom", "loc.start", "loc.end", "num.mark", "seg.mean"))]
    for seg in segments:
        lines.append(
            "\t".join(
                [
                    sample,
                    styled_contig(seg.chrom, chr_style),
                    str(seg.start),
                    str(seg.end),
                    str(seg.n_bins),
                    f"{seg.log2:.4f}",
                ]
            )
        )
    return "\n".join(lines) + "\n"
