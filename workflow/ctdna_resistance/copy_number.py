"""Gene-level copy number and purity-aware amplification / deep-deletion calls (SPEC 5.4).

`gene_copy_number` overlaps the panel's amplification/deletion genes with one sample's segments
(pyranges) and keeps a length-weighted log2 ratio r per gene with the numbers behind it.
`call_copy_number` turns r into plasma copy number 2^(r+1) and, with tumour fraction p, tumour copy
number C = (2^(r+1) - 2(1-p)) / p, and applies the thresholds of `DEFAULT_COPY_NUMBER` (overridable
from the config's `copy_number` block). Every call carries the rule that fired, or why none did,
with its numbers.

C is CNVkit's `call -m clonal --purity p` formula for an autosome with reference and expected
ploidy 2 (cnvlib/call.py `_log2_ratio_to_absolute`: n = (r_ref * 2^v - x_exp * (1 - p)) / p,
clamped at 0). CNVkit then rounds to an integer and uses 1 or 0 reference/expected copies on X and
Y by sample sex; here C is kept unrounded and every contig is treated as diploid (all panel genes
are autosomal).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ctdna_resistance.errors import InputError
from ctdna_resistance.panel import Panel
from ctdna_resistance.records import Segment, normalise_contig

if TYPE_CHECKING:
    import pyranges

COPY_NUMBER_CLASSES = ("amplification", "deletion")

# Thresholds of SPEC 5.4. None of these numbers could be traced to a primary source from this
# environment; they are chosen defaults, each with the reasoning behind it, to be tuned to the
# assay (config `copy_number:`).
DEFAULT_COPY_NUMBER = {
    # Tumour copies for an amplification once purity is accounted for. Chosen default: the low
    # end of the 6-8 copy range commonly used for high-level ERBB2/MET amplification calls from
    # NGS; a tumour-CN threshold of 6 is 3x the diploid baseline.
    "amp_copies": 6.0,
    # Largest segment still called focal. Chosen default within the 10-25 Mb range used to tell
    # focal amplicons from arm-level gains (chromosome 7q, which carries MET, is ~100 Mb).
    "focal_max_bp": 10_000_000,
    # Plasma copy number 2^(r+1) for an amplification when the tumour fraction is unknown.
    # Chosen default: 2.5 copies (log2 ratio ~0.32), the plasma copy-number rule of commercial
    # plasma assays as described in the project brief; not verified against a primary source.
    "plasma_amp_copies": 2.5,
    # Tumour copies at or below which a panel `deletion` gene is a deep (homozygous) deletion.
    # Chosen default: 0.5, the point at which CNVkit's rounding (`call -m clonal`) gives 0 copies.
    "deletion_max_copies": 0.5,
    # Fewest bins/probes behind the gene's segments for any call. Chosen default: a segment of
    # 1-2 bins is too noisy to call from.
    "min_bins": 3,
    # Below this tumour fraction C is reported but not used (its noise is amplified by 1/p) and
    # the plasma rule applies as if p were unknown. Chosen default of 3%, the tumour fraction
    # usually quoted as ichorCNA's lower limit at 0.1x (ichorCNA paper, Adalsteinsson et al. 2017,
    # Nat Commun 8:1324; the exact figure was not re-checked here).
    "min_tumor_fraction": 0.03,
}


@dataclass(frozen=True)
class GeneCopyNumber:
    """One panel gene's copy number in one sample, from the segments overlapping it.

    ``log2`` is weighted by the bases of the gene each segment covers; ``segment_*`` describe the
    segment covering the largest share of the gene (its size decides focality); ``n_bins`` sums
    the bins/probes of the overlapping segments (None when a segment does not say);
    ``covered_fraction`` is the share of the gene's bases covered by any segment. ``classes`` are
    the panel's alteration classes for the gene (an addition to the brief's field list: it tells
    `call_copy_number` which genes count for deep deletion; empty means amplification only).
    """

    gene: str
    chrom: str
    start: int
    end: int
    log2: float
    n_segments: int
    segment_start: int
    segment_end: int
    segment_bp: int
    n_bins: int | None
    covered_fraction: float
    classes: tuple[str, ...] = ()
    # length-weighted absolute copy number, when every overlapping segment carries one (PURPLE,
    # ASCAT, Control-FREEC with contamination adjustment, CNVkit call)
    copy_number: float | None = None


@dataclass(frozen=True)
class CopyNumberCall:
    """The amplification / deep-deletion call for one gene, with the numbers behind it."""

    gene: str
    log2: float
    plasma_cn: float
    tumor_cn: float | None
    tumor_fraction: float | None
    tf_method: str
    focal: bool
    segment_bp: int
    status: str  # 'amplification' | 'deep_deletion' | 'none'
    rule: str
    n_bins: int | None

    @property
    def called(self) -> bool:
        return self.status != "none"


def _contig_key(chrom: str) -> tuple[int, int, str]:
    return (0, int(chrom), "") if chrom.isdigit() else (1, 0, chrom)


@functools.lru_cache(maxsize=4)
def _copy_number_genes(panel: Panel) -> tuple[list, pyranges.PyRanges | None]:
    """The panel's amplification/deletion genes and their PyRanges, built once per panel."""
    import pandas as pd  # here, not at module import: ~0.3 s a patient without copy number skips
    import pyranges as pr

    genes = [g for g in panel.genes.values() if set(g.classes) & set(COPY_NUMBER_CLASSES)]
    if not genes:
        return genes, None
    frame = pd.DataFrame(
        {
            "Chromosome": [normalise_contig(g.chrom) for g in genes],
            "Start": [g.start - 1 for g in genes],
            "End": [g.end for g in genes],
            "gene_index": range(len(genes)),
        }
    )
    return genes, pr.PyRanges(frame)


def gene_copy_number(segments: list[Segment], panel: Panel) -> list[GeneCopyNumber]:
    """Gene-level copy number for the panel's amplification/deletion genes.

    Segments and genes are matched on normalised contigs, so 'chr7' and '7' meet. Coordinates are
    1-based inclusive on both sides (converted to pyranges' half-open intervals here). A gene no
    segment overlaps is not reported. Sorted by contig and start.
    """
    return gene_copy_number_by_draw([segments], panel)[0]


def gene_copy_number_by_draw(
    segment_lists: list[list[Segment]], panel: Panel
) -> list[list[GeneCopyNumber]]:
    """gene_copy_number for each of several draws' segments, with one interval join for all.

    A patient's job overlaps every draw at once: each pyranges join costs ~30 ms whatever its
    size, so one join per patient instead of one per draw (issue 6).
    """
    genes, gene_ranges = _copy_number_genes(panel)
    if not genes or not any(segment_lists):
        return [[] for _ in segment_lists]
    import pandas as pd
    import pyranges as pr

    # only segments on the genes' contigs go into the join: building the PyRanges of a draw's
    # every contig cost more than the join itself (a segment elsewhere overlaps no gene)
    contigs = {normalise_contig(g.chrom) for g in genes}
    flat = [
        (draw, segment)
        for draw, segments in enumerate(segment_lists)
        for segment in segments
        if normalise_contig(segment.chrom) in contigs
    ]
    if not flat:
        return [[] for _ in segment_lists]
    segment_frame = pd.DataFrame(
        {
            "Chromosome": [normalise_contig(s.chrom) for _, s in flat],
            "Start": [s.start - 1 for _, s in flat],
            "End": [s.end for _, s in flat],
            "segment_index": range(len(flat)),
        }
    )
    joined = overlap_join(gene_ranges, pr.PyRanges(segment_frame))
    overlaps: list[dict[int, list[tuple[Segment, int]]]] = [{} for _ in segment_lists]
    if not joined.empty:
        pairs = joined.df
        for gene_index, segment_index, start, end, seg_start, seg_end in zip(
            pairs["gene_index"], pairs["segment_index"], pairs["Start"], pairs["End"],
            pairs["Start_segment"], pairs["End_segment"], strict=True,
        ):  # fmt: skip
            draw, segment = flat[int(segment_index)]
            covered = min(end, seg_end) - max(start, seg_start)
            overlaps[draw].setdefault(int(gene_index), []).append((segment, covered))
    return [_gene_results(genes, by_gene) for by_gene in overlaps]


def overlap_join(genes: pyranges.PyRanges, segments: pyranges.PyRanges) -> pyranges.PyRanges:
    """Every overlapping (gene, segment) pair; the segment's columns get the suffix _segment."""
    with warnings.catch_warnings():
        # pyranges 0.1 calls DataFrame.join(rsuffix=...), which pandas 3 flags for pandas 4.
        warnings.filterwarnings("ignore", message="The 'lsuffix' and 'rsuffix' keywords")
        return genes.join(segments, suffix="_segment", apply_strand_suffix=False)


def _gene_results(genes, overlaps: dict[int, list[tuple[Segment, int]]]) -> list[GeneCopyNumber]:
    """One draw's GeneCopyNumber per overlapped gene, sorted by contig and start."""
    results = []
    for gene_index, hits in overlaps.items():
        gene = genes[gene_index]
        hits.sort(key=lambda hit: (hit[0].start, hit[0].end))
        covered_bp = sum(bp for _, bp in hits)
        log2 = sum(segment.log2 * bp for segment, bp in hits) / covered_bp
        # The covering segment: the largest share of the gene, the first one on a tie.
        main, _ = max(hits, key=lambda hit: hit[1])
        bins = [segment.n_bins for segment, _ in hits]
        absolute = [segment.copy_number for segment, _ in hits]
        copy_number = (
            None
            if None in absolute
            else sum(segment.copy_number * bp for segment, bp in hits) / covered_bp
        )
        results.append(
            GeneCopyNumber(
                gene=gene.symbol,
                chrom=normalise_contig(gene.chrom),
                start=gene.start,
                end=gene.end,
                log2=log2,
                n_segments=len(hits),
                segment_start=main.start,
                segment_end=main.end,
                segment_bp=main.end - main.start + 1,
                n_bins=None if None in bins else sum(bins),
                covered_fraction=covered_bp / (gene.end - gene.start + 1),
                classes=tuple(gene.classes),
                copy_number=copy_number,
            )
        )
    return sorted(results, key=lambda g: (_contig_key(g.chrom), g.start, g.gene))


def copy_number_settings(settings: dict | None) -> dict:
    """DEFAULT_COPY_NUMBER overridden by the config's `copy_number` block; unknown keys refused."""
    merged = dict(DEFAULT_COPY_NUMBER)
    for key, value in (settings or {}).items():
        if key not in DEFAULT_COPY_NUMBER:
            raise InputError(
                None,
                f"unknown copy_number setting {key!r}",
                f"use one of {', '.join(DEFAULT_COPY_NUMBER)}",
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InputError(
                None,
                f"copy_number setting {key} is {value!r}, not a non-negative number",
                "fix the config's copy_number block",
            )
        merged[key] = value
    return merged


def tumour_copy_number(log2: float, tumor_fraction: float) -> float:
    """C = (2^(r+1) - 2(1-p)) / p, clamped at 0 like CNVkit (a deletion below the normal floor)."""
    plasma = 2.0 ** (log2 + 1.0)
    return max(0.0, (plasma - 2.0 * (1.0 - tumor_fraction)) / tumor_fraction)


def _reaches(value: float, threshold: float) -> bool:
    """value >= threshold as reported (2 decimals), so the rule agrees with the printed number.

    Without this, a value that is the threshold on paper (12 tumour copies at 5% give plasma CN
    exactly 2.5) falls either side by floating-point accident.
    """
    return round(value, 2) >= threshold


def _mb(bp: int) -> str:
    return f"{bp / 1e6:.3g} Mb"


def call_copy_number(
    genes: list[GeneCopyNumber],
    tumor_fraction: float | None,
    tf_method: str,
    settings: dict,
    *,
    absolute: bool = False,
) -> list[CopyNumberCall]:
    """Amplification / deep-deletion status of each gene (SPEC 5.4), in the order given.

    With tumour fraction p (>= min_tumor_fraction): amplification when C >= amp_copies on a focal
    segment (<= focal_max_bp); deep deletion, for panel `deletion` genes, when C <=
    deletion_max_copies. Without a usable p: amplification when plasma CN >= plasma_amp_copies on a
    focal segment; no deep-deletion call. Fewer than min_bins bins: no call.

    ``absolute``: the caller fitted purity and absolute copy number itself (PURPLE, ASCAT): C is
    its copy number, used directly rather than re-derived from the log2 ratio, and the plasma
    copy number is what plasma at that purity shows, p*C + 2(1-p).
    """
    config = copy_number_settings(settings)
    if tumor_fraction is not None and not 0.0 <= tumor_fraction <= 1.0:
        raise InputError(
            None,
            f"tumour fraction {tumor_fraction} ({tf_method}) is outside 0-1",
            "give the tumour fraction as a fraction, e.g. 0.12 for 12%",
        )
    calls = []
    for gene in genes:
        plasma_cn = 2.0 ** (gene.log2 + 1.0)
        tumor_cn = (
            tumour_copy_number(gene.log2, tumor_fraction)
            if tumor_fraction is not None and tumor_fraction > 0
            else None
        )
        from_caller = absolute and gene.copy_number is not None
        if from_caller:
            tumor_cn = gene.copy_number
            if tumor_fraction is not None:
                plasma_cn = tumor_fraction * tumor_cn + 2.0 * (1.0 - tumor_fraction)
        focal = gene.segment_bp <= config["focal_max_bp"]
        status, rule = _decide(gene, plasma_cn, tumor_cn, tumor_fraction, tf_method, focal, config)
        if from_caller:
            rule += f" (absolute copy number and purity fitted by the caller: {tf_method})"
        calls.append(
            CopyNumberCall(
                gene=gene.gene,
                log2=gene.log2,
                plasma_cn=plasma_cn,
                tumor_cn=tumor_cn,
                tumor_fraction=tumor_fraction,
                tf_method=tf_method,
                focal=focal,
                segment_bp=gene.segment_bp,
                status=status,
                rule=rule,
                n_bins=gene.n_bins,
            )
        )
    return calls


def _decide(gene, plasma_cn, tumor_cn, tumor_fraction, tf_method, focal, config):
    amplifiable = not gene.classes or "amplification" in gene.classes
    deletable = "deletion" in gene.classes
    size = (
        f"segment {_mb(gene.segment_bp)} <= focal_max {_mb(config['focal_max_bp'])}"
        if focal
        else f"segment {_mb(gene.segment_bp)} > focal_max {_mb(config['focal_max_bp'])} (arm-level)"
    )
    if gene.n_bins is not None and gene.n_bins < config["min_bins"]:
        return "none", f"{gene.n_bins} bins < min_bins {config['min_bins']}: too few to call"
    usable = (
        tumor_cn is not None
        and tumor_fraction is not None
        and tumor_fraction >= config["min_tumor_fraction"]
    )
    if usable:
        tf_text = f"TF {tumor_fraction:.3g} ({tf_method})"
        if amplifiable and _reaches(tumor_cn, config["amp_copies"]):
            if focal:
                return "amplification", (
                    f"tumour CN {tumor_cn:.2f} >= amp_copies {config['amp_copies']:g} at "
                    f"{tf_text}; {size}"
                )
            return "none", (
                f"tumour CN {tumor_cn:.2f} >= amp_copies {config['amp_copies']:g} at {tf_text} "
                f"but {size}: not a focal amplification"
            )
        if deletable and round(tumor_cn, 2) <= config["deletion_max_copies"]:
            return "deep_deletion", (
                f"tumour CN {tumor_cn:.2f} <= deletion_max_copies "
                f"{config['deletion_max_copies']:g} at {tf_text}"
            )
        bounds = []
        if amplifiable:
            bounds.append(f"< amp_copies {config['amp_copies']:g}")
        if deletable:
            bounds.append(f"> deletion_max_copies {config['deletion_max_copies']:g}")
        return "none", f"tumour CN {tumor_cn:.2f} {' and '.join(bounds)} at {tf_text}"
    if tumor_fraction is None or tumor_fraction == 0:
        why = "TF unknown" if tumor_fraction is None else f"TF 0 ({tf_method})"
    else:
        why = (
            f"TF {tumor_fraction:.3g} ({tf_method}) < min_tumor_fraction "
            f"{config['min_tumor_fraction']:g}, tumour CN {tumor_cn:.2f} not used"
        )
    if not amplifiable:
        return "none", f"{why}: a deep deletion needs the tumour fraction"
    threshold = config["plasma_amp_copies"]
    if _reaches(plasma_cn, threshold):
        if focal:
            return "amplification", (
                f"{why}: plasma CN {plasma_cn:.2f} >= plasma_amp_copies {threshold:g}; {size}"
            )
        return "none", (
            f"{why}: plasma CN {plasma_cn:.2f} >= plasma_amp_copies {threshold:g} but {size}"
        )
    return "none", f"{why}: plasma CN {plasma_cn:.2f} < plasma_amp_copies {threshold:g}"
