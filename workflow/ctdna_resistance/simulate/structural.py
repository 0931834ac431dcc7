"""Copy-number and structural alterations of a simulated patient, and their per-draw evidence.

An amplification or a fusion is carried by one of the patient's resistant clones (the clone's
point mutation and its amplification/fusion share one trajectory), so it appears, grows and decays
with that clone: at a draw with tumour fraction p where the clone has cancer-cell fraction c,

* an amplification of clone copy number K gives the tumour (mean over tumour cells) copy number
  C = 2 + c (K - 2) at the gene, written as a focal segment (see `cn_writers`);
* a fusion (one rearranged allele in the clone) has VAF p c / 2; its breakend fragments are
  Binomial(D, VAF) with D ~ negative binomial around half the draw's mean depth, split ~55/45
  into split and spanning reads.

Scenarios by patient role (index % 4, as the small-variant dialects):

* role 0: MET amplification on the dominant clone, its clone copy number chosen so that at the
  draw with a low tumour fraction (3.5-6.4%) where the clone is largest, the tumour copy number
  is >= 7.5 but the plasma copy number is 2.35, below the 2.5 plasma rule: only the
  tumour-fraction-aware call catches it, so this patient's sheet carries the tumour fraction
  (when no draw qualifies, 10-20 clone copies and no such target). CNVkit .cns; Manta.
* role 1: ERBB2 (KRAS on every other cycle) amplification on the dominant clone, aimed at a peak
  tumour copy number of 9-14 at the clone's largest draw; CCDC6-RET on the second clone; no
  tumour fraction in the sheet (the VAF-based estimate is used). CNVkit .cns; Delly.
* role 2: a truncal arm-level gain of the arm holding MET (6.5-8 tumour copies) that must not be
  called an amplification; ETV6-NTRK3 on the clone that emerges on therapy. SEG; Delly.
* role 3: EML4-ALK on the dominant clone. SEG; Manta.

Every patient also carries two truncal non-panel rearrangements that must be filtered: a deletion
inside a non-panel gene and a translocation between two non-panel genes. Fusion breakpoints lie
inside both genes' spans from ``data/fusion_genes.tsv`` (35-65% along each); the exon structure
is not modelled, so "intronic" is not guaranteed. Orientations follow the genes' strands so that
the 5' partner keeps its 5' part and the kinase its 3' part.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ctdna_resistance.fusions import load_gene_table
from ctdna_resistance.panel import Panel
from ctdna_resistance.simulate.cn_writers import arm_of
from ctdna_resistance.simulate.genome import CONTIG_LENGTHS, non_panel_span

CN_FORMAT_BY_ROLE = {0: "cnvkit", 1: "cnvkit", 2: "seg", 3: "seg"}
SV_CALLER_BY_ROLE = {0: "manta", 1: "delly", 2: "delly", 3: "manta"}
FUSION_BY_ROLE = {1: ("CCDC6", "RET"), 2: ("ETV6", "NTRK3"), 3: ("EML4", "ALK")}
LOW_TF_PLASMA_CN = 2.35  # below the 2.5 plasma rule by more than the segment noise (3%)
MIN_TARGET_TUMOUR_CN = 7.5  # above the 6-copy amp_copies rule by more than the noise
# Tumour fractions p of the diluted MET target: min_tumor_fraction 0.03 < p, and the tumour CN
# 2 + (2.35 - 2) / p must stay >= 7.5, i.e. p <= 0.35 / 5.5 = 0.063636... The bound is that value
# rounded down (the former 0.064 gave tumour CN 7.47 at p = 0.064, failing the assertion below).
LOW_TF_RANGE = (0.035, 0.0636)
SV_DEPTH_FACTOR = 0.5  # breakend-informative fragments per site, relative to the draw depth
SPLIT_SHARE = 0.55
NON_PANEL_DEL_GENES = ("SMAD4", "LRP1B", "FBXW7", "APC")
NON_PANEL_TRANSLOCATION_GENES = ("TTN", "MUC16", "APOB", "ASXL1", "SOX9")


@dataclass(frozen=True, slots=True)
class Amplification:
    """A focal amplification of a panel gene carried by one resistant clone."""

    gene: str
    chrom: str
    gene_start: int
    gene_end: int
    amplicon_start: int
    amplicon_end: int
    clone_cn: float
    carrier: object  # the carrying clone's Site (cohort.Site)


@dataclass(frozen=True, slots=True)
class Breakend:
    chrom: str
    pos: int
    strand: str  # VCF breakend orientation: '+' keeps the sequence at and before pos


@dataclass(frozen=True, slots=True)
class Fusion:
    """A kinase fusion (5' partner - 3' panel kinase) carried by one resistant clone."""

    five_gene: str
    kinase: str
    five: Breakend
    three: Breakend
    carrier: object

    @property
    def label(self) -> str:
        return f"{self.five_gene}-{self.kinase}"


@dataclass(frozen=True, slots=True)
class NonPanelSv:
    """A truncal rearrangement outside every panel gene (must be filtered)."""

    kind: str  # 'DEL' | 'BND'
    gene_a: str
    gene_b: str
    a: Breakend
    b: Breakend


@dataclass(frozen=True, slots=True)
class ArmGain:
    """A truncal whole-arm gain (tumour copy number, constant over draws)."""

    chrom: str
    arm: str
    tumour_cn: float
    covers: tuple[str, ...]  # panel amplification genes on the arm


@dataclass(slots=True)
class StructuralPlan:
    """Everything structural drawn for one patient."""

    cn_format: str
    sv_caller: str
    sheet_tumor_fraction: bool
    amplifications: list[Amplification] = field(default_factory=list)
    fusions: list[Fusion] = field(default_factory=list)
    non_panel: list[NonPanelSv] = field(default_factory=list)
    arm_gains: list[ArmGain] = field(default_factory=list)
    low_tf_target: dict | None = None  # the draw where the diluted amplification was aimed


def amplification_genes(panel: Panel) -> list[str]:
    return panel.genes_with_classes("amplification")


def _emerging(clones: list, prefer: int) -> object | None:
    """The clone at ``prefer`` if it emerges on therapy, else the first one that does."""
    ordered = clones[prefer:] + clones[:prefer]
    for clone in ordered:
        if not clone.pre_existing:
            return clone
    return None


def design_structural(
    plan, panel: Panel, build: str, rng: np.random.Generator, states: list
) -> StructuralPlan:
    """Draw the patient's structural alterations. ``states`` is [(tf, {site: ccf})] per draw."""
    role = plan.index % 4
    result = StructuralPlan(
        cn_format=CN_FORMAT_BY_ROLE[role],
        sv_caller=SV_CALLER_BY_ROLE[role],
        sheet_tumor_fraction=role == 0,
    )
    amp_genes = amplification_genes(panel)
    if role == 0 and "MET" in amp_genes:
        clone = _emerging(plan.clones, 0)
        if clone is not None:
            result.amplifications.append(_low_tf_amplification(panel, build, rng, clone, states,
                                                               plan, result))  # fmt: skip
    elif role == 1:
        wanted = ("ERBB2", "KRAS") if (plan.index // 4) % 2 == 0 else ("KRAS", "ERBB2")
        gene = next((g for g in wanted if g in amp_genes), None)
        clone = _emerging(plan.clones, 0)
        if gene is not None and clone is not None:
            # aimed at a peak tumour copy number of 9-14 where the clone is largest
            peak_ccf = max(ccf.get(clone.site, 0.0) for _, ccf in states)
            peak_cn = float(rng.uniform(9, 14))
            clone_cn = 2 + (peak_cn - 2) / peak_ccf if peak_ccf > 0 else peak_cn
            result.amplifications.append(_amplification(panel, build, rng, gene, clone_cn, clone))
    elif role == 2:
        target = "MET" if "MET" in amp_genes else (amp_genes[0] if amp_genes else None)
        if target is not None:
            gene = panel.genes[target]
            arm = arm_of(build, gene.chrom, gene.start)
            if arm is not None:
                covers = tuple(
                    g for g in amp_genes
                    if arm_of(build, panel.genes[g].chrom, panel.genes[g].start) == arm
                )  # fmt: skip
                result.arm_gains.append(
                    ArmGain(arm.chrom, arm.arm, float(rng.uniform(6.5, 8.0)), covers)
                )
    if role in FUSION_BY_ROLE:
        five_gene, kinase = FUSION_BY_ROLE[role]
        clone = _emerging(plan.clones, 0 if role == 3 else 1)
        fusion_genes = {s for s, g in panel.genes.items() if "fusion" in g.classes}
        if clone is not None and kinase in fusion_genes:
            result.fusions.append(_fusion(panel, build, rng, five_gene, kinase, clone))
    result.non_panel = _non_panel_svs(panel, build, rng)
    return result


def _amplicon(panel: Panel, build: str, rng, gene_name: str) -> tuple[int, int]:
    gene = panel.genes[gene_name]
    arm = arm_of(build, gene.chrom, gene.start)
    start = gene.start - int(rng.integers(400_000, 1_500_001))
    end = gene.end + int(rng.integers(400_000, 1_500_001))
    if arm is not None:  # keep the amplicon inside its arm so it splits one arm segment
        start, end = max(start, arm.start + 1), min(end, arm.end - 1)
    return start, end


def _amplification(panel, build, rng, gene_name, clone_cn, clone) -> Amplification:
    gene = panel.genes[gene_name]
    start, end = _amplicon(panel, build, rng, gene_name)
    return Amplification(gene_name, gene.chrom, gene.start, gene.end, start, end, clone_cn,
                         clone.site)  # fmt: skip


def _low_tf_amplification(panel, build, rng, clone, states, plan, result) -> Amplification:
    """MET amplification aimed at plasma CN 2.35 / tumour CN >= 7.5 at one low-TF draw."""
    candidates = []
    for draw, (tf, ccf) in enumerate(states):
        c = ccf.get(clone.site, 0.0)
        if LOW_TF_RANGE[0] <= tf <= LOW_TF_RANGE[1] and c >= 0.1:
            candidates.append((c, -draw, draw, tf))
    if candidates:
        c, _, draw, tf = max(candidates)
        tumour_cn = 2 + (LOW_TF_PLASMA_CN - 2) / tf
        clone_cn = 2 + (tumour_cn - 2) / c
        result.low_tf_target = {
            "draw": draw, "tumour_fraction": tf, "clone_ccf": c, "tumour_cn": tumour_cn,
            "plasma_cn": LOW_TF_PLASMA_CN,
        }  # fmt: skip
        assert tumour_cn >= MIN_TARGET_TUMOUR_CN  # follows from LOW_TF_RANGE
    else:
        clone_cn = float(rng.uniform(10, 20))
    return _amplification(panel, build, rng, "MET", clone_cn, clone)


def _fusion(panel, build, rng, five_gene, kinase, clone) -> Fusion:
    table = load_gene_table(build)
    spans = {}
    for name in (five_gene, kinase):
        listed = table.genes[name]
        gene = panel.genes.get(name)
        # the panel's own locus decides the panel side; the table names the partner
        start, end = (gene.start, gene.end) if gene is not None else (listed.start, listed.end)
        spans[name] = (listed.chrom, start, end, listed.strand)
    ends = {}
    for name, keep_five in ((five_gene, True), (kinase, False)):
        chrom, start, end, strand = spans[name]
        pos = start + int((end - start) * float(rng.uniform(0.35, 0.65)))
        # '+' keeps the sequence before pos: the 5' part of a '+' gene, the 3' part of a '-' one
        orientation = strand if keep_five else ("-" if strand == "+" else "+")
        ends[name] = Breakend(chrom, pos, orientation)
    return Fusion(five_gene, kinase, ends[five_gene], ends[kinase], clone.site)


def _non_panel_svs(panel: Panel, build: str, rng) -> list[NonPanelSv]:
    def clear(gene: str) -> bool:
        span = non_panel_span(gene, build)
        return not any(
            g.chrom == span.chrom and span.start <= g.end + 1000 and g.start - 1000 <= span.end
            for g in panel.genes.values()
        )

    events = []
    deletable = [g for g in NON_PANEL_DEL_GENES if clear(g)]
    if deletable:
        gene = deletable[int(rng.integers(len(deletable)))]
        span = non_panel_span(gene, build)
        end_limit = min(span.end, CONTIG_LENGTHS[build][span.chrom])
        length = int(rng.integers(2_000, 20_001))
        start = int(rng.integers(span.start, max(span.start + 1, end_limit - length)))
        events.append(
            NonPanelSv("DEL", gene, gene, Breakend(span.chrom, start, "+"),
                       Breakend(span.chrom, start + length, "-"))
        )  # fmt: skip
    movable = [g for g in NON_PANEL_TRANSLOCATION_GENES if clear(g)]
    pairs = [
        (a, b) for i, a in enumerate(movable) for b in movable[i + 1 :]
        if non_panel_span(a, build).chrom != non_panel_span(b, build).chrom
    ]  # fmt: skip
    if pairs:
        gene_a, gene_b = pairs[int(rng.integers(len(pairs)))]
        ends = []
        for gene in (gene_a, gene_b):
            span = non_panel_span(gene, build)
            pos = int(rng.integers(span.start, min(span.end, CONTIG_LENGTHS[build][span.chrom])))
            ends.append(Breakend(span.chrom, pos, "+" if rng.random() < 0.5 else "-"))
        events.append(NonPanelSv("BND", gene_a, gene_b, ends[0], ends[1]))
    return events


def amplification_tumour_cn(amp: Amplification, ccf: float) -> float:
    """Tumour copy number (mean over tumour cells) at the gene when the carrier has CCF ``ccf``."""
    return 2.0 + ccf * (amp.clone_cn - 2.0)


@dataclass(frozen=True, slots=True)
class BreakendCounts:
    depth: int
    split_reads: int
    spanning_reads: int
    ref_split: int
    ref_pairs: int
    normal_ref_split: int
    normal_ref_pairs: int

    @property
    def alt_reads(self) -> int:
        return self.split_reads + self.spanning_reads

    @property
    def ref_reads(self) -> int:
        return self.ref_split + self.ref_pairs


def sample_breakend(rng, depth_draw, mean_depth: float, normal_mean: float, vaf: float):
    """Tumour and normal support at a rearrangement in one draw; ``depth_draw(rng, mean)`` is the
    simulator's depth model."""
    depth = depth_draw(rng, mean_depth * SV_DEPTH_FACTOR)
    alt = int(rng.binomial(depth, min(max(vaf, 0.0), 1.0)))
    split = int(rng.binomial(alt, SPLIT_SHARE))
    ref = depth - alt
    ref_split = int(rng.binomial(ref, 1 - SPLIT_SHARE))
    normal = depth_draw(rng, normal_mean * SV_DEPTH_FACTOR)
    normal_split = int(rng.binomial(normal, 1 - SPLIT_SHARE))
    return BreakendCounts(depth, split, alt - split, ref_split, ref - ref_split, normal_split,
                          normal - normal_split)  # fmt: skip
