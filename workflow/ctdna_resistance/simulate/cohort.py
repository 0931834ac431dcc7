"""A synthetic serial-plasma cohort with known truth (``ctdna-resistance simulate``).

The model, per patient (all random draws from numpy's default_rng, seeded by (seed, patient)):

* Tumour burden B(t) = S(t) + sum_j R_j(t), relative to baseline (B(0) = 1). Sensitive cells S fall
  with a half-life of 2-4 weeks on anti-EGFR to a floor, and regrow after it is withdrawn.
  Resistant clone j appears at day e_j (or is present at baseline at a low level in one patient),
  grows exponentially on anti-EGFR so that it has a chosen cancer-cell fraction (CCF) at
  progression, and decays with a half-life of 4-5 months after anti-EGFR is withdrawn. Patients
  who switch line progress between two draws and stop anti-EGFR then; the others stay on it and
  progress at their last draw.
* Tumour fraction TF(t) = o*B / (1 + o*B) with o the baseline odds (baseline TF 2-30%).
* True VAF: truncal = TF/2; resistance = TF * CCF_j / 2; germline 0.5 or 1.0; clonal
  haematopoiesis (CH) = blood VAF * (1 - TF), because non-tumour cfDNA comes from blood cells.
  Each resistant clone also carries 1-3 passenger SNVs in non-panel genes at its CCF (truth clone =
  the clone's label), so that clones can be told apart by more than their one panel hotspot.
* Depth per site ~ negative binomial around the draw's mean (1,500-5,000x); alt reads =
  Binomial(depth, VAF) + min(Binomial(ref reads, 2e-4), 3) sequencing errors. The error reads are
  capped so that noise alone never reaches the 5 reads a PASS call needs: every PASS record is a
  true allele, while filtered records at absent hotspots exercise the FILTER handling.
* The simulated caller writes PASS when alt >= 5 and VAF >= 0.2%, a filtered record when
  there is weaker evidence, nothing when alt = 0; dialect rules add germline/normal labels.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import yaml

from ctdna_resistance.errors import InputError
from ctdna_resistance.panel import load_panel
from ctdna_resistance.records import BUILDS
from ctdna_resistance.simulate import artefacts
from ctdna_resistance.simulate.bam import write_plasma_bam, write_reference
from ctdna_resistance.simulate.cn_writers import (
    FocalGain,
    layout_segments,
    render_cnvkit_cns,
    render_seg,
)
from ctdna_resistance.simulate.genome import (
    CHIP_GENES,
    CONTIG_LENGTHS,
    CONTIG_RANK,
    GERMLINE_GENES,
    PASSENGER_GENES,
    TRUNCAL_GENES,
    non_panel_span,
)
from ctdna_resistance.simulate.normals import (
    N_NORMALS,
    BackgroundDesign,
    design_background,
    write_normal_plasmas,
)
from ctdna_resistance.simulate.panel_sites import PanelHotspot, PanelSites, read_panel_sites
from ctdna_resistance.simulate.structural import (
    StructuralPlan,
    amplification_tumour_cn,
    design_structural,
    sample_breakend,
)
from ctdna_resistance.simulate.sv_writers import (
    MIN_RECORD_ALT,
    SV_WRITERS,
    SvCall,
    SvContext,
    render_sv_vcf,
)
from ctdna_resistance.simulate.vcf_writers import (
    WRITERS,
    CallRecord,
    VcfContext,
    is_weak,
    render_vcf,
    write_vcf,
)

DIALECT_ROTATION = ("mutect2_tumor_only", "vardict", "strelka2_somatic", "mutect2_paired")
BASELINE_DATE = date(2023, 1, 9)
PATIENT_STAGGER_DAYS = 17
BACKGROUND_ERROR_RATE = 2e-4
MAX_ERROR_READS = 3
DEPTH_NB_SIZE = 25.0
MIN_DEPTH = 100
EMERGENCE_SEED_BURDEN = 1e-3
ANTI_EGFR_AGENTS = ("cetuximab", "panitumumab")
BACKBONES = ("FOLFIRI", "FOLFOX")
SECOND_LINE_BIOLOGIC = "bevacizumab"
BAM_DEPTH_FACTOR = 0.2  # BAM fragments per site relative to the draw's mean depth
BAM_DEPTH_RANGE = (200, 800)  # kept small: the BAMs are committed in test_data
BAM_ERROR_RATE = 1e-3
BAM_WINDOW = 600  # reference bases kept either side of a BAM site

SAMPLE_COLUMNS = (
    "patient", "sample", "collection_date", "vcf", "vcf_sample", "normal_vcf", "tumor_fraction",
    "timepoint", "cnv", "sv", "sv_sample", "bam",
)  # fmt: skip
TREATMENT_COLUMNS = ("patient", "agent", "start_date", "end_date", "line")
TRUTH_COLUMNS = (
    "patient", "sample", "collection_date", "category", "gene", "protein", "chrom", "pos", "ref",
    "alt", "true_vaf", "depth", "alt_reads", "in_vcf", "filter",
    # added for copy number, fusions and clones; empty where they do not apply
    "kind", "clone", "true_tumor_cn", "tumor_fraction", "log2", "n_bins", "split_reads",
    "spanning_reads", "ref_reads",
)  # fmt: skip
TRUTH_SAMPLE_COLUMNS = (
    "patient", "sample", "collection_date", "timepoint", "days_since_baseline", "on_anti_egfr",
    "true_tumor_fraction", "mean_depth",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Site:
    """A simulated variant of one patient."""

    category: str  # resistance | passenger | truncal | germline | chip
    gene: str
    protein: str
    chrom: str
    pos: int
    ref: str
    alt: str
    clone: str = ""  # passengers: the label of the resistant clone that carries them

    @property
    def sort_key(self) -> tuple[int, int, str, str]:
        return (CONTIG_RANK[self.chrom], self.pos, self.ref, self.alt)


@dataclass(frozen=True, slots=True)
class Clone:
    """A resistant subclone carrying one panel hotspot (and non-panel passenger SNVs)."""

    site: Site
    pre_existing: bool
    emergence_day: float
    seed_burden: float  # burden (relative to baseline total) when it appears
    growth_per_day: float
    ccf_at_progression: float
    passengers: tuple[Site, ...] = ()


@dataclass(slots=True)
class PatientPlan:
    """Everything drawn for one patient before any reads are sampled."""

    patient: str
    index: int
    dialect: str
    chr_style: bool
    compressed: bool
    draw_days: list[int]
    baseline_date: date
    baseline_tf: float
    therapy_start_day: int
    anti_egfr_agent: str
    backbone: str
    last_draw_on_anti_egfr: int
    progression_day: int
    withdrawal_day: int | None
    second_line_start_day: int | None
    sensitive_half_life_days: float
    sensitive_floor: float
    sensitive_regrowth_doubling_days: float
    decay_half_life_days: float
    mean_depths: list[float]
    normal_mean_depth: float
    clones: list[Clone] = field(default_factory=list)
    truncal: list[Site] = field(default_factory=list)
    germline: list[tuple[Site, float]] = field(default_factory=list)  # (site, germline VAF)
    chip: list[tuple[Site, float]] = field(default_factory=list)  # (site, blood VAF)

    @property
    def draw_dates(self) -> list[date]:
        return [self.baseline_date + timedelta(days=day) for day in self.draw_days]

    def day_date(self, day: int) -> date:
        return self.baseline_date + timedelta(days=day)

    def sample_id(self, draw: int) -> str:
        return f"{self.patient}-T{draw}"

    def on_anti_egfr(self, day: int) -> bool:
        end = math.inf if self.withdrawal_day is None else self.withdrawal_day
        return self.therapy_start_day <= day <= end

    def all_sites(self) -> list[Site]:
        """Hotspot and background sites, whose counts come from the patient's main stream
        (passengers, added later, have their own: see passenger_sites)."""
        sites = [clone.site for clone in self.clones] + list(self.truncal)
        sites += [site for site, _ in self.germline] + [site for site, _ in self.chip]
        return sorted(sites, key=lambda site: site.sort_key)

    def passenger_sites(self) -> list[Site]:
        return sorted(
            (site for clone in self.clones for site in clone.passengers),
            key=lambda site: site.sort_key,
        )


@dataclass(frozen=True, slots=True)
class Observation:
    """One site in one plasma draw: truth, sampled counts, and what the caller wrote."""

    site: Site
    true_vaf: float
    depth: int
    alt_reads: int
    filters: tuple[str, ...] | None  # None: no record written


def _rounded(value: float) -> float:
    """Six significant digits, so params.yaml is readable and stable."""
    return float(f"{value:.6g}")


def _design_patient(
    index: int, n_draws: int, panel: PanelSites, build: str, rng: np.random.Generator,
    pre_existing: bool,
) -> PatientPlan:  # fmt: skip
    """Draw one patient's schedule, treatment, tumour dynamics and variant sites."""
    role = index % 4
    dialect = DIALECT_ROTATION[role]
    # Draw p is the last draw on anti-EGFR for patients who progress and switch line before the
    # next draw. Roles 0 and 3 switch early so that two draws follow withdrawal (a decay can be
    # fitted); role 1 switches before the last draw; the others stay on anti-EGFR throughout and
    # progress at their last draw.
    if n_draws >= 3 and role in (0, 3):
        last_on_therapy = max(1, n_draws - 3)
    elif n_draws >= 3 and role == 1:
        last_on_therapy = n_draws - 2
    else:
        last_on_therapy = n_draws - 1
    switches = last_on_therapy < n_draws - 1
    days = [0]
    for draw in range(1, n_draws):
        # clones need time to grow before progression, so draws up to it are 8-12 weeks apart
        weeks = rng.integers(8, 13) if draw <= last_on_therapy + 1 else rng.integers(4, 13)
        days.append(days[-1] + 7 * int(weeks))
    therapy_start = int(rng.integers(0, 8))
    withdrawal_day = second_line = None
    progression_day = days[-1]
    if switches:
        gap = days[last_on_therapy + 1] - days[last_on_therapy]
        progression_day = days[last_on_therapy] + int(gap * float(rng.uniform(0.35, 0.6)))
        withdrawal_day = progression_day  # anti-EGFR is stopped when progression is seen
        second_line = withdrawal_day + int(rng.integers(7, 15))
    baseline_tf = float(rng.uniform(0.02, 0.30))
    if pre_existing:
        baseline_tf = max(baseline_tf, float(rng.uniform(0.12, 0.30)))
    plan = PatientPlan(
        patient=f"P{index + 1:03d}",
        index=index,
        dialect=dialect,
        chr_style=index % 2 == 1,
        compressed=dialect != "vardict",
        draw_days=days,
        baseline_date=BASELINE_DATE + timedelta(days=PATIENT_STAGGER_DAYS * index),
        baseline_tf=baseline_tf,
        therapy_start_day=therapy_start,
        anti_egfr_agent=str(rng.choice(ANTI_EGFR_AGENTS)),
        backbone=str(rng.choice(BACKBONES)),
        last_draw_on_anti_egfr=last_on_therapy,
        progression_day=progression_day,
        withdrawal_day=withdrawal_day,
        second_line_start_day=second_line,
        sensitive_half_life_days=float(rng.uniform(14, 28)),
        sensitive_floor=float(rng.uniform(0.15, 0.35)),
        sensitive_regrowth_doubling_days=float(rng.uniform(60, 120)),
        decay_half_life_days=float(rng.uniform(120, 150)),
        mean_depths=[float(rng.uniform(1500, 5000)) for _ in range(n_draws)],
        normal_mean_depth=float(rng.uniform(800, 2000)),
    )
    used: set[tuple[str, int]] = set()
    _add_resistance_clones(plan, panel, rng, used, pre_existing)
    if index == 0:
        _add_chip_at_hotspot(plan, panel, rng, used)
    _add_background_sites(plan, panel, build, rng, used)
    return plan


def _eligible_hotspots(plan: PatientPlan, panel: PanelSites) -> list[PanelHotspot]:
    # Strelka2's SNV file cannot hold an MNV or indel, so those patients get SNV hotspots only
    if plan.dialect == "strelka2_somatic":
        return [spot for spot in panel.hotspots if spot.is_snv]
    return list(panel.hotspots)


def _hotspot_site(spot: PanelHotspot, category: str) -> Site:
    return Site(category, spot.gene, spot.protein, spot.chrom, spot.pos, spot.ref, spot.alt)


def _add_resistance_clones(
    plan: PatientPlan, panel: PanelSites, rng: np.random.Generator, used: set, pre_existing: bool
) -> None:
    role = plan.index % 4
    wanted = {1: 3, 3: 2}.get(role, 1)
    if pre_existing:
        wanted = 2  # the baseline clone plus one that emerges on therapy
    by_gene: dict[str, list[PanelHotspot]] = {}
    for spot in _eligible_hotspots(plan, panel):
        by_gene.setdefault(spot.gene, []).append(spot)
    genes = list(by_gene)
    if not genes:
        raise InputError(
            panel.path, f"no SNV hotspot for {plan.dialect} patient {plan.patient}",
            "add SNV hotspots to the panel",
        )  # fmt: skip
    order = rng.permutation(len(genes))
    chosen: list[PanelHotspot] = []
    for gene_index in order:
        candidates = [s for s in by_gene[genes[gene_index]] if (s.chrom, s.pos) not in used]
        if not candidates:
            continue
        spot = candidates[int(rng.integers(len(candidates)))]
        chosen.append(spot)
        used.add((spot.chrom, spot.pos))
        if len(chosen) == wanted:
            break
    # The first clone dominates; the others stay small, some below the caller's limit. A third
    # clone has 0.15-0.3x the second's CCF: SPEC 5.6 defines a clone by its trajectory, and two
    # minor clones drawn independently from 1-10% often have trajectories that agree within
    # sampling noise, i.e. are one clone to any method (the truth could not be recovered).
    fractions = [float(rng.uniform(0.4, 0.7))]
    for _ in chosen[1:]:
        if len(fractions) == 1:
            fractions.append(float(rng.uniform(0.01, 0.1)))
        else:
            fractions.append(fractions[-1] * float(rng.uniform(0.15, 0.3)))
    total = sum(fractions)
    start = plan.therapy_start_day
    progression_day = plan.progression_day
    sensitive_at_progression = _sensitive_burden(plan, progression_day, pre_existing_seed=0.0)
    baseline_seed = float(rng.uniform(0.03, 0.08)) if pre_existing else 0.0
    sensitive_at_progression *= 1 - baseline_seed
    for number, (spot, ccf) in enumerate(zip(chosen, fractions, strict=True)):
        is_baseline = pre_existing and number == 0
        if is_baseline:
            emergence, seed_burden = 0.0, baseline_seed
        else:
            emergence = float(rng.uniform(start + 7, start + 0.6 * (progression_day - start)))
            seed_burden = EMERGENCE_SEED_BURDEN
        target = ccf * sensitive_at_progression / (1 - total)
        growth = max(math.log(target / seed_burden) / (progression_day - emergence), 0.002)
        plan.clones.append(
            Clone(
                _hotspot_site(spot, "resistance"), is_baseline, emergence, seed_burden, growth, ccf
            )
        )


def _add_chip_at_hotspot(
    plan: PatientPlan, panel: PanelSites, rng: np.random.Generator, used: set
) -> None:
    resistance_genes = {clone.site.gene for clone in plan.clones}
    candidates = [
        spot
        for spot in _eligible_hotspots(plan, panel)
        if (spot.chrom, spot.pos) not in used and spot.gene not in resistance_genes
    ] or [spot for spot in _eligible_hotspots(plan, panel) if (spot.chrom, spot.pos) not in used]
    if not candidates:
        return
    spot = candidates[int(rng.integers(len(candidates)))]
    used.add((spot.chrom, spot.pos))
    plan.chip.append((_hotspot_site(spot, "chip"), float(rng.uniform(0.01, 0.03))))


def _random_snv(rng: np.random.Generator) -> tuple[str, str]:
    ref = "ACGT"[int(rng.integers(4))]
    alts = [base for base in "ACGT" if base != ref]
    return ref, alts[int(rng.integers(3))]


def _free_position(
    rng: np.random.Generator, chrom: str, start: int, end: int, used: set, reject
) -> int:
    for _ in range(1000):
        pos = int(rng.integers(start, end + 1))
        if all((chrom, near) not in used for near in range(pos - 10, pos + 11)) and not reject(
            chrom, pos
        ):
            used.add((chrom, pos))
            return pos
    raise RuntimeError(f"no free position in {chrom}:{start}-{end}")  # a bug, not bad input


def _span_tuple(span) -> tuple[str, int, int]:
    return (span.chrom, span.start, span.end)


def _add_background_sites(
    plan: PatientPlan, panel: PanelSites, build: str, rng: np.random.Generator, used: set
) -> None:
    def outside_panel(chrom: str, pos: int) -> bool:
        return panel.in_locus(chrom, pos, pad=1000)

    def off_hotspot(chrom: str, pos: int) -> bool:
        return panel.near_hotspot(chrom, pos, pad=10)

    def non_panel_site(category: str, gene: str) -> Site:
        span = non_panel_span(gene, build)
        end = min(span.end, CONTIG_LENGTHS[build][span.chrom])
        pos = _free_position(rng, span.chrom, span.start, end, used, outside_panel)
        return Site(category, gene, "", span.chrom, pos, *_random_snv(rng))

    def clear_of_panel(genes: tuple[str, ...]) -> list[str]:
        # a user panel may list one of these genes; then it is not a background gene here
        return [
            gene
            for gene in genes
            if not panel.overlaps_locus(*_span_tuple(non_panel_span(gene, build)), pad=1000)
        ]

    truncal_genes = clear_of_panel(TRUNCAL_GENES)
    n_truncal = min(2 + int(rng.random() < 0.5), len(truncal_genes))
    for gene_index in rng.choice(len(truncal_genes), size=n_truncal, replace=False):
        plan.truncal.append(non_panel_site("truncal", truncal_genes[int(gene_index)]))

    # germline SNPs: two inside panel gene loci (not at hotspots), three elsewhere
    germline_sites = []
    for _ in range(2 if panel.loci else 0):
        locus = panel.loci[int(rng.integers(len(panel.loci)))]
        pos = _free_position(rng, locus.chrom, locus.start, locus.end, used, off_hotspot)
        germline_sites.append(Site("germline", locus.gene, "", locus.chrom, pos, *_random_snv(rng)))
    germline_genes = clear_of_panel(GERMLINE_GENES)
    for _ in range(3 if germline_genes else 0):
        gene = germline_genes[int(rng.integers(len(germline_genes)))]
        germline_sites.append(non_panel_site("germline", gene))
    for site in germline_sites:
        plan.germline.append((site, 0.5 if rng.random() < 0.75 else 1.0))

    chip_genes = clear_of_panel(CHIP_GENES)
    n_chip = min(1 + int(rng.random() < 0.5), len(chip_genes))
    for gene_index in rng.choice(len(chip_genes), size=n_chip, replace=False):
        site = non_panel_site("chip", chip_genes[int(gene_index)])
        plan.chip.append((site, float(rng.uniform(0.004, 0.03))))


def _add_passengers(
    plan: PatientPlan, panel: PanelSites, build: str, rng: np.random.Generator
) -> None:
    """1-3 passenger SNVs per resistant clone, in non-panel genes, at the clone's CCF.

    Drawn from their own stream after every other site, so the rest of the patient is the same
    with or without them."""
    used = {(site.chrom, site.pos) for site in plan.all_sites()}
    genes = [
        gene
        for gene in PASSENGER_GENES
        if not panel.overlaps_locus(*_span_tuple(non_panel_span(gene, build)), pad=1000)
    ]
    if not genes:
        return
    clones = []
    for clone in plan.clones:
        label = _clone_label(clone.site)
        passengers = []
        for _ in range(int(rng.integers(1, 4))):
            span = non_panel_span(genes[int(rng.integers(len(genes)))], build)
            end = min(span.end, CONTIG_LENGTHS[build][span.chrom])
            pos = _free_position(
                rng, span.chrom, span.start, end, used,
                lambda chrom, pos: panel.in_locus(chrom, pos, pad=1000),
            )  # fmt: skip
            ref, alt = _random_snv(rng)
            passengers.append(Site("passenger", span.gene, "", span.chrom, pos, ref, alt, label))
        clones.append(dataclasses.replace(clone, passengers=tuple(passengers)))
    plan.clones = clones


def _simulate_passengers(
    plan: PatientPlan, states: list, rng: np.random.Generator
) -> tuple[dict[Site, tuple[int, int]], list[list[Observation]]]:
    """Normal (depth, 0) and per-draw observations of the passengers, from their own stream."""
    writer = WRITERS[plan.dialect]
    sites = plan.passenger_sites()
    normal = {site: (_depth(rng, plan.normal_mean_depth), 0) for site in sites}
    carrier = {site: clone.site for clone in plan.clones for site in clone.passengers}
    draws = []
    for draw, (tf, ccf) in enumerate(states):
        observations = []
        for site in sites:
            vaf = tf * ccf[carrier[site]] / 2
            depth = _depth(rng, plan.mean_depths[draw])
            alt = _alt_reads(rng, depth, vaf)
            filters = writer.call_filters(site.category, depth, alt)
            observations.append(Observation(site, vaf, depth, alt, filters))
        draws.append(observations)
    return normal, draws


def _sensitive_burden(
    plan: PatientPlan, day: float, pre_existing_seed: float | None = None
) -> float:
    """Burden of anti-EGFR-sensitive tumour cells relative to the baseline total."""
    if pre_existing_seed is None:
        pre_existing_seed = sum(c.seed_burden for c in plan.clones if c.pre_existing)
    burden = 1.0 - pre_existing_seed
    if day <= plan.therapy_start_day:
        return burden
    end = math.inf if plan.withdrawal_day is None else plan.withdrawal_day
    treated_days = min(day, end) - plan.therapy_start_day
    decay = math.exp(-math.log(2) / plan.sensitive_half_life_days * treated_days)
    burden *= max(decay, plan.sensitive_floor)
    if day > end:
        burden *= math.exp(math.log(2) / plan.sensitive_regrowth_doubling_days * (day - end))
    return burden


def _clone_burden(plan: PatientPlan, clone: Clone, day: float) -> float:
    """Burden of one resistant clone relative to the baseline total (0 before it appears)."""
    if day < clone.emergence_day:
        return 0.0
    end = math.inf if plan.withdrawal_day is None else plan.withdrawal_day
    burden = clone.seed_burden * math.exp(
        clone.growth_per_day * (min(day, end) - clone.emergence_day)
    )
    if day > end:
        burden *= math.exp(-math.log(2) / plan.decay_half_life_days * (day - end))
    return burden


def tumour_state(plan: PatientPlan, day: float) -> tuple[float, dict[Site, float]]:
    """Tumour fraction and each resistant clone's cancer-cell fraction on a day."""
    clone_burdens = {clone.site: _clone_burden(plan, clone, day) for clone in plan.clones}
    total = _sensitive_burden(plan, day) + sum(clone_burdens.values())
    odds = plan.baseline_tf / (1 - plan.baseline_tf) * total
    fraction = odds / (1 + odds)
    return fraction, {site: burden / total for site, burden in clone_burdens.items()}


def _true_vaf(plan: PatientPlan, site: Site, tf: float, ccf: dict[Site, float]) -> float:
    if site.category == "resistance":
        return tf * ccf[site] / 2
    if site.category == "truncal":
        return tf / 2
    if site.category == "germline":
        return dict(plan.germline)[site]
    return dict(plan.chip)[site] * (1 - tf)


def _depth(rng: np.random.Generator, mean: float) -> int:
    value = rng.negative_binomial(DEPTH_NB_SIZE, DEPTH_NB_SIZE / (DEPTH_NB_SIZE + mean))
    return max(int(value), MIN_DEPTH)


def _alt_reads(rng: np.random.Generator, depth: int, vaf: float) -> int:
    signal = int(rng.binomial(depth, min(vaf, 1.0)))
    noise = min(int(rng.binomial(depth - signal, BACKGROUND_ERROR_RATE)), MAX_ERROR_READS)
    return signal + noise


def _sample_normal(plan: PatientPlan, rng: np.random.Generator) -> dict[Site, tuple[int, int]]:
    """Matched white-blood-cell (depth, alt reads) per site: one normal per patient."""
    blood_vaf = {site: vaf for site, vaf in plan.germline} | {site: vaf for site, vaf in plan.chip}
    counts = {}
    for site in plan.all_sites():
        depth = _depth(rng, plan.normal_mean_depth)
        vaf = blood_vaf.get(site, 0.0)
        counts[site] = (depth, int(rng.binomial(depth, vaf)) if vaf else 0)
    return counts


def _simulate_draws(plan: PatientPlan, rng: np.random.Generator) -> list[list[Observation]]:
    writer = WRITERS[plan.dialect]
    draws = []
    for draw, day in enumerate(plan.draw_days):
        tf, ccf = tumour_state(plan, day)
        observations = []
        for site in plan.all_sites():
            vaf = _true_vaf(plan, site, tf, ccf)
            depth = _depth(rng, plan.mean_depths[draw])
            alt = _alt_reads(rng, depth, vaf)
            filters = writer.call_filters(site.category, depth, alt)
            observations.append(Observation(site, vaf, depth, alt, filters))
        draws.append(observations)
    return draws


def _write_tsv(path: Path, columns: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    lines = ["\t".join(columns)] + ["\t".join(str(value) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _check_arguments(outdir: Path, seed: int, n_patients: int, n_draws: int, build: str) -> None:
    if build not in BUILDS:
        raise InputError(None, f"unknown genome build {build!r}", f"use one of {', '.join(BUILDS)}")
    if not isinstance(seed, int) or seed < 0:
        raise InputError(
            None, f"seed must be a non-negative integer, got {seed!r}", "pass --seed 1"
        )
    if not 1 <= n_patients <= 999:
        raise InputError(None, f"n_patients must be 1-999, got {n_patients}", "pass --patients 4")
    if not 2 <= n_draws <= 20:
        raise InputError(None, f"n_draws must be 2-20, got {n_draws}", "pass --draws 4")
    if outdir.exists() and (not outdir.is_dir() or any(outdir.iterdir())):
        raise InputError(
            outdir, "output folder exists and is not empty",
            "pass a new or empty folder (the simulator never overwrites a cohort)",
        )  # fmt: skip


def _regenerate_command(
    outdir: Path, seed: int, n_patients: int, n_draws: int, panel_path: Path, build: str,
    n_normals: int,
) -> str:  # fmt: skip
    # the flags of `ctdna-resistance simulate` in cli.py
    words = [
        "ctdna-resistance", "simulate", "--out", str(outdir), "--seed", str(seed),
        "--patients", str(n_patients), "--draws", str(n_draws), "--panel", str(panel_path),
        "--build", build, "--normals", str(n_normals),
    ]  # fmt: skip
    return shlex.join(words)


def _site_params(site: Site) -> dict:
    return {
        "gene": site.gene, "protein": site.protein, "chrom": site.chrom, "pos": site.pos,
        "ref": site.ref, "alt": site.alt,
    }  # fmt: skip


def _patient_params(plan: PatientPlan, tumour_fractions: list[float]) -> dict:
    tags = ["polyclonal" if len(plan.clones) > 1 else "monoclonal"]
    if any(clone.pre_existing for clone in plan.clones):
        tags.append("pre_existing_resistance")
    if any(site.protein for site, _ in plan.chip):
        tags.append("chip_at_panel_hotspot")
    tags.append("anti_egfr_withdrawn" if plan.withdrawal_day is not None else "anti_egfr_ongoing")
    return {
        "patient": plan.patient,
        "scenario": tags,
        "dialect": plan.dialect,
        "contig_style": "chr" if plan.chr_style else "nochr",
        "vcf_compression": "bgzip+tabix" if plan.compressed else "plain",
        "baseline_date": plan.baseline_date.isoformat(),
        "draw_days": list(plan.draw_days),
        "true_tumor_fraction": [_rounded(tf) for tf in tumour_fractions],
        "mean_depth": [_rounded(depth) for depth in plan.mean_depths],
        "normal_mean_depth": _rounded(plan.normal_mean_depth),
        "anti_egfr": {
            "agent": plan.anti_egfr_agent,
            "backbone": plan.backbone,
            "start_day": plan.therapy_start_day,
            "last_draw_on_anti_egfr": plan.last_draw_on_anti_egfr,
            "progression_day": plan.progression_day,
            "withdrawal_day": plan.withdrawal_day,
            "second_line_start_day": plan.second_line_start_day,
        },
        "sensitive_cells": {
            "half_life_days_on_anti_egfr": _rounded(plan.sensitive_half_life_days),
            "floor_fraction": _rounded(plan.sensitive_floor),
            "regrowth_doubling_days_after_withdrawal": _rounded(
                plan.sensitive_regrowth_doubling_days
            ),
        },
        "resistance_clones": [
            _site_params(clone.site)
            | {
                "pre_existing": clone.pre_existing,
                "emergence_day": _rounded(clone.emergence_day),
                "seed_burden": _rounded(clone.seed_burden),
                "growth_per_day": _rounded(clone.growth_per_day),
                "ccf_at_progression": _rounded(clone.ccf_at_progression),
                "decay_half_life_days_after_withdrawal": _rounded(plan.decay_half_life_days),
                "passengers": [_site_params(site) for site in clone.passengers],
            }
            for clone in plan.clones
        ],
        "chip": [_site_params(site) | {"blood_vaf": _rounded(vaf)} for site, vaf in plan.chip],
    }


def _model_params() -> dict:
    return {
        "baseline_date": BASELINE_DATE.isoformat(),
        "patient_stagger_days": PATIENT_STAGGER_DAYS,
        "draw_interval_weeks": {"up_to_progression": [8, 12], "after_progression": [4, 12]},
        "baseline_tumor_fraction": [0.02, 0.30],
        "dialect_rotation": list(DIALECT_ROTATION),
        "vaf": {
            "truncal": "TF / 2",
            "resistance": "TF * CCF / 2",
            "passenger": "TF * CCF / 2 of its resistant clone (1-3 non-panel SNVs per clone)",
            "germline": "0.5 (het, p=0.75) or 1.0 (hom)",
            "chip": "blood VAF * (1 - TF)",
        },
        "depth": {
            "mean_per_draw": [1500, 5000],
            "negative_binomial_size": DEPTH_NB_SIZE,
            "minimum": MIN_DEPTH,
            "normal_mean": [800, 2000],
        },
        "alt_reads": "Binomial(depth, VAF) + min(Binomial(ref reads, error), max_error_reads)",
        "background_error_rate": BACKGROUND_ERROR_RATE,
        "max_error_reads": MAX_ERROR_READS,
        "caller": {
            "pass": "alt_reads >= 5 and VAF >= 0.002 (plus dialect germline/normal rules)",
            "filtered_record": "alt_reads >= 1 but not PASS",
            "no_record": "alt_reads == 0",
        },
        "emergence_seed_burden": EMERGENCE_SEED_BURDEN,
        "note": "non-panel positions and all REF bases are illustrative, not from a reference",
        "copy_number": {
            "files": "one per draw, whole genome: CNVkit .cns (roles 0, 1) or SEG (roles 2, 3)",
            "segments": "arm-level, split around each amplicon present in the draw",
            "log2": "log2((TF * C + 2 * (1 - TF)) / 2) + N(0, (0.1 / sqrt(bins))^2), cut at 2 SD",
            "bins": "one per 100 kb, at least 20 per segment",
            "amplification_tumor_cn": "2 + CCF * (clone copy number - 2), CCF of the carrier",
        },
        "structural_variants": {
            "files": "one per draw: Manta somaticSV (roles 0, 3) or Delly somatic (roles 1, 2)",
            "fusion_vaf": "TF * CCF / 2 of the carrier clone; non-panel SVs TF / 2 (truncal)",
            "fragments": "Binomial(NB(mean depth / 2), VAF), 55% split / 45% spanning",
            "record": "written when >= 2 alt fragments, PASS when >= 5",
        },
        "bam": {
            "patient": "the second patient (the first when there is one)",
            "fragments_per_site": "mean depth * 0.2, within 200-800 (kept small)",
            "error_rate": BAM_ERROR_RATE,
            "vaf": "the truth VAF of each resistance site at that draw",
        },
    }


def simulate_cohort(
    outdir: Path,
    *,
    seed: int = 1,
    n_patients: int = 4,
    n_draws: int = 4,
    panel_path: Path,
    build: str = "GRCh38",
    n_normals: int = N_NORMALS,
) -> None:
    """Write a synthetic serial-plasma cohort with its truth into ``outdir`` (new or empty), and
    ``n_normals`` normal plasmas (``simulate.normals``; 0: none)."""
    outdir = Path(outdir)
    _check_arguments(outdir, seed, n_patients, n_draws, build)
    panel = read_panel_sites(Path(panel_path), build)
    pre_existing_index = 2 if n_patients >= 3 else (n_patients - 1 if n_patients >= 2 else None)

    design = design_background(seed, Path(panel_path), build, n_normals)  # own random streams

    outdir.parent.mkdir(parents=True, exist_ok=True)
    # build the cohort next to outdir and move it in at the end: no half-written cohort is left
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        patient_params, reference = _write_cohort(
            staging, seed, n_patients, n_draws, panel, build, pre_existing_index, panel_path, design
        )
        normals = write_normal_plasmas(
            staging, design, reference=reference, patients=patient_params
        )
        params = {
            "generator": "ctdna-resistance simulate",
            "command": _regenerate_command(
                outdir, seed, n_patients, n_draws, panel_path, build, n_normals
            ),
            "seed": seed,
            "n_patients": n_patients,
            "n_draws": n_draws,
            "build": build,
            "panel": {
                "path": str(panel_path),
                "name": panel.name,
                "version": panel.version,
                "sha256": panel.sha256,
                "hotspots_with_coordinates": len(panel.hotspots),
            },
            "model": _model_params(),
            # the FASTA the BAMs were written against (give it as the workflow's `reference`)
            "reference": reference,
            "normals": normals,
            "patients": patient_params,
        }
        header = (
            "# Synthetic serial plasma cohort with known truth, written by ctdna-resistance "
            "simulate.\n# Regenerate it byte for byte with `command`, run from the same folder.\n"
        )
        (staging / "params.yaml").write_text(
            header + yaml.safe_dump(params, sort_keys=False, width=4096), encoding="utf-8"
        )
        os.chmod(staging, 0o755)
        if outdir.exists():
            outdir.rmdir()
        os.replace(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _call_record(obs: Observation, normal: tuple[int, int]) -> CallRecord:
    site = obs.site
    return CallRecord(
        site.chrom, site.pos, site.ref, site.alt, obs.depth, obs.alt_reads, obs.filters or (),
        site.category, normal_depth=normal[0], normal_alt_reads=normal[1],
    )  # fmt: skip


def _clone_label(site: Site) -> str:
    """The clone a variant belongs to: a resistant clone is named by its point mutation."""
    if site.category == "resistance":
        return f"{site.gene} {site.protein}"
    if site.category == "passenger":
        return site.clone
    return "truncal" if site.category == "truncal" else ""


def _truth_fields(obs: Observation, tf: float) -> tuple:
    """The truth.tsv columns from category on, for a small variant."""
    site = obs.site
    written = obs.filters is not None
    filter_text = (";".join(obs.filters) or "PASS") if obs.filters is not None else ""
    return (
        site.category, site.gene, site.protein, site.chrom, site.pos, site.ref, site.alt,
        f"{obs.true_vaf:.6f}", obs.depth, obs.alt_reads, int(written), filter_text,
        "snv", _clone_label(site), "", f"{tf:.6f}", "", "", "", "", "",
    )  # fmt: skip


@dataclass
class _DrawFiles:
    """Paths (relative to the cohort folder) of one draw's extra inputs, for the sheet."""

    cnv: str = ""
    sv: str = ""
    sv_sample: str = ""
    bam: str = ""


def _write_cohort(
    root: Path, seed: int, n_patients: int, n_draws: int, panel: PanelSites, build: str,
    pre_existing_index: int | None, panel_path: Path, design: BackgroundDesign,
) -> tuple[list[dict], dict | None]:  # fmt: skip
    """Write samples, treatments, truth, VCFs, copy-number and SV files and BAMs into ``root``;
    return per-patient parameters and the BAM reference's parameters (None without BAMs)."""
    for folder in ("vcf", "normal", "cnv", "sv"):
        (root / folder).mkdir()
    full_panel = load_panel(panel_path, build)
    bam_index = 1 if n_patients >= 2 else 0
    sample_rows, treatment_rows, truth_rows, truth_sample_rows, patient_params = [], [], [], [], []
    reference_params = None
    for index in range(n_patients):
        design_rng = np.random.default_rng([seed, index, 0])
        counts_rng = np.random.default_rng([seed, index, 1])
        cosmetic_rng = np.random.default_rng([seed, index, 2])
        # copy number, SVs and BAMs draw from their own streams, so the small variants stay the
        # same whatever is added here
        structural_rng = np.random.default_rng([seed, index, 3])
        evidence_rng = np.random.default_rng([seed, index, 4])
        bam_rng = np.random.default_rng([seed, index, 5])
        passenger_rng = np.random.default_rng([seed, index, 6])
        artefact_rng, artefact_cosmetic_rng = artefacts.patient_streams(seed, index)
        plan = _design_patient(
            index, n_draws, panel, build, design_rng, pre_existing=index == pre_existing_index
        )
        _add_passengers(plan, panel, build, passenger_rng)
        normal_counts = _sample_normal(plan, counts_rng)
        draws = _simulate_draws(plan, counts_rng)
        states = [tumour_state(plan, day) for day in plan.draw_days]
        passenger_normal, passenger_draws = _simulate_passengers(plan, states, passenger_rng)
        normal_counts |= passenger_normal
        draws = [
            sorted(observations + extra, key=lambda obs: obs.site.sort_key)
            for observations, extra in zip(draws, passenger_draws, strict=True)
        ]
        structural = design_structural(plan, full_panel, build, structural_rng, states)
        writer = WRITERS[plan.dialect]
        normal_name = f"{plan.patient}_WBC"
        normal_rel = f"normal/{normal_name}.vcf"
        files = [_DrawFiles() for _ in plan.draw_days]
        if index == bam_index:
            reference_params = _write_bams(
                root, plan, draws, states, build, seed, bam_rng, files, full_panel
            )
        tumour_fractions = []
        for draw, (day, observations) in enumerate(zip(plan.draw_days, draws, strict=True)):
            sample = plan.sample_id(draw)
            collected = plan.day_date(day)
            ctx = VcfContext(build, plan.chr_style, sample, normal_name, collected)
            records = [
                _call_record(obs, normal_counts[obs.site])
                for obs in observations
                if obs.filters is not None
            ]
            suffix = ".vcf.gz" if plan.compressed else ".vcf"
            vcf_rel = f"vcf/{sample}{suffix}"
            text = render_vcf(writer, ctx, records, cosmetic_rng)
            artefact_obs = artefacts.observe_artefacts(
                design, plan, draw, writer, _depth, artefact_rng
            )
            text = artefacts.add_to_vcf(text, artefact_obs, writer, ctx, artefact_cosmetic_rng)
            write_vcf(root / vcf_rel, text)
            tf, ccf = states[draw]
            tumour_fractions.append(tf)
            strelka = plan.dialect == "strelka2_somatic"
            where = (plan.patient, sample, collected.isoformat())
            truth_rows += [(*where, *_truth_fields(obs, tf)) for obs in observations]
            truth_rows += [(*where, *artefacts.truth_fields(obs, tf)) for obs in artefact_obs]
            truth_rows += _write_copy_number(
                root, plan, structural, full_panel, build, draw, tf, ccf, evidence_rng, files
            )
            truth_rows += _write_structural_variants(
                root, plan, structural, build, draw, tf, ccf, evidence_rng, files
            )
            sheet_tf = f"{tf:.4f}" if structural.sheet_tumor_fraction else ""
            extra = files[draw]
            sheet_fields = (
                vcf_rel, "TUMOR" if strelka else "", normal_rel, sheet_tf, f"T{draw}",
                extra.cnv, extra.sv, extra.sv_sample, extra.bam,
            )  # fmt: skip
            sample_rows.append((*where, *sheet_fields))
            on_therapy = int(plan.on_anti_egfr(day))
            depth_text = f"{plan.mean_depths[draw]:.0f}"
            truth_sample_rows.append((*where, f"T{draw}", day, on_therapy, f"{tf:.6f}", depth_text))
        _write_normal_vcf(root / normal_rel, plan, normal_counts, build, cosmetic_rng)
        treatment_rows += _treatment_rows(plan)
        params = _patient_params(plan, tumour_fractions)
        params["structural"] = _structural_params(structural, index == bam_index, plan)
        patient_params.append(params)

    def by_patient_and_date(row: tuple) -> tuple:
        return (row[0], row[2], row[1])

    kind_order = {"snv": 0, "amplification": 1, "fusion": 2, "sv": 3}

    def truth_key(row: tuple) -> tuple:
        kind = kind_order[row[15]]
        return (row[0], row[2], row[1], CONTIG_RANK[row[6]], row[7], kind, row[8], row[9])

    _write_tsv(root / "samples.tsv", SAMPLE_COLUMNS, sorted(sample_rows, key=by_patient_and_date))
    _write_tsv(root / "treatments.tsv", TREATMENT_COLUMNS, sorted(treatment_rows))
    _write_tsv(root / "truth.tsv", TRUTH_COLUMNS, sorted(truth_rows, key=truth_key))
    _write_tsv(
        root / "truth_samples.tsv",
        TRUTH_SAMPLE_COLUMNS,
        sorted(truth_sample_rows, key=by_patient_and_date),
    )
    return patient_params, reference_params


def _panel_genes_in(panel) -> callable:
    """CNVkit's gene column: the panel genes a segment overlaps, else '-'."""

    def genes_in(chrom: str, start: int, end: int) -> str:
        names = sorted(
            g.symbol for g in panel.genes.values()
            if g.chrom == chrom and g.start <= end and start <= g.end
        )  # fmt: skip
        return ",".join(names) or "-"

    return genes_in


def _write_copy_number(
    root, plan, structural: StructuralPlan, panel, build, draw, tf, ccf, rng, files
) -> list[tuple]:
    """One draw's segment file (whole genome); truth rows for its amplifications."""
    sample = plan.sample_id(draw)
    focal = []
    amp_cn = {}
    for amp in structural.amplifications:
        tumour_cn = amplification_tumour_cn(amp, ccf.get(amp.carrier, 0.0))
        amp_cn[amp.gene] = tumour_cn
        if ccf.get(amp.carrier, 0.0) > 0:  # no focal segment while the clone is absent
            focal.append(FocalGain(amp.chrom, amp.amplicon_start, amp.amplicon_end, tumour_cn,
                                   amp.gene))  # fmt: skip
    arm_cn = {(gain.chrom, gain.arm): gain.tumour_cn for gain in structural.arm_gains}
    segments = layout_segments(
        build, tf, rng, arm_cn=arm_cn, focal=focal, genes_in=_panel_genes_in(panel)
    )
    if structural.cn_format == "cnvkit":
        rel = f"cnv/{sample}.cns"
        text = render_cnvkit_cns(segments, plan.chr_style)
    else:
        rel = f"cnv/{sample}.seg"
        text = render_seg(segments, sample, plan.chr_style)
    (root / rel).write_text(text, encoding="ascii")
    files[draw].cnv = rel
    rows = []
    where = (plan.patient, sample, plan.day_date(plan.draw_days[draw]).isoformat())
    for amp in structural.amplifications:
        covering = next(
            s for s in segments if s.chrom == amp.chrom and s.start <= amp.gene_start <= s.end
        )
        clone_ccf = ccf.get(amp.carrier, 0.0)
        rows.append(
            (
                *where, "resistance", amp.gene, "amplification", amp.chrom, amp.gene_start, "", "",
                f"{tf * clone_ccf / 2:.6f}", "", "", 1, "", "amplification",
                _clone_label(amp.carrier), f"{amp_cn[amp.gene]:.4f}", f"{tf:.6f}",
                f"{covering.log2:.4f}", covering.n_bins, "", "", "",
            )
        )  # fmt: skip
    return rows


def _write_structural_variants(
    root, plan, structural: StructuralPlan, build, draw, tf, ccf, rng, files
) -> list[tuple]:
    """One draw's SV VCF (Manta or Delly); truth rows for its fusions and non-panel SVs."""
    sample = plan.sample_id(draw)
    day = plan.draw_days[draw]
    where = (plan.patient, sample, plan.day_date(day).isoformat())
    calls, rows = [], []
    events = [(fusion, "resistance") for fusion in structural.fusions]
    events += [(event, "truncal") for event in structural.non_panel]
    for number, (event, category) in enumerate(events, start=1):
        if category == "resistance":
            clone_ccf = ccf.get(event.carrier, 0.0)
            vaf = tf * clone_ccf / 2
            first, second = event.five, event.three
            kind = "BND" if first.chrom != second.chrom else "INV"
        else:
            vaf = tf / 2
            first, second = event.a, event.b
            kind = event.kind
        counts = sample_breakend(rng, _depth, plan.mean_depths[draw], plan.normal_mean_depth, vaf)
        # a is the breakend first in contig order (Delly writes POS < END on one contig)
        a, b = sorted((first, second), key=lambda end: (CONTIG_RANK[end.chrom], end.pos))
        written = counts.alt_reads >= MIN_RECORD_ALT
        call = SvCall(
            number, kind, a.chrom, a.pos, a.strand, b.chrom, b.pos, b.strand,
            counts.split_reads, counts.spanning_reads, counts.ref_split, counts.ref_pairs,
            counts.normal_ref_split, counts.normal_ref_pairs,
        )  # fmt: skip
        if written:
            calls.append(call)
        filter_text = ("PASS" if not call.weak else _weak_sv_filter(structural)) if written else ""
        if category == "resistance":
            gene, protein, anchor = event.kinase, event.label, event.three
            clone = _clone_label(event.carrier)
        else:
            gene = ";".join(dict.fromkeys((event.gene_a, event.gene_b)))
            protein, anchor, clone = "", a, "truncal"  # the breakend first in contig order
        rows.append(
            (
                *where, category, gene, protein, anchor.chrom, anchor.pos, "", "", f"{vaf:.6f}",
                counts.depth, counts.alt_reads, int(written), filter_text,
                "fusion" if category == "resistance" else "sv", clone, "", f"{tf:.6f}", "", "",
                counts.split_reads, counts.spanning_reads, counts.ref_reads,
            )
        )  # fmt: skip
    writer = SV_WRITERS[structural.sv_caller]
    normal = f"{plan.patient}_WBC"
    ctx = SvContext(build, plan.chr_style, sample, normal, plan.day_date(day))
    rel = f"sv/{sample}.{structural.sv_caller}.vcf"
    (root / rel).write_text(render_sv_vcf(writer, ctx, calls), encoding="ascii")
    files[draw].sv = rel
    # Delly names its columns by sample, so the sheet says which one is the plasma
    files[draw].sv_sample = sample if structural.sv_caller == "delly" else ""
    return rows


def _weak_sv_filter(structural: StructuralPlan) -> str:
    return "MinSomaticScore" if structural.sv_caller == "manta" else "LowQual"


def _write_bams(root, plan, draws, states, build, seed, rng, files, panel) -> dict:
    """Indexed BAMs of every draw at the patient's resistance sites, and their reference.

    The reference holds the panel's REF bases at every hotspot inside the windows (not only the
    patient's sites), so that tools checking a FASTA against the panel (the background step)
    accept it."""
    sites = [clone.site for clone in plan.clones]
    windows = [(site.chrom, site.pos - BAM_WINDOW, site.pos + BAM_WINDOW) for site in sites]
    hotspot_bases = sorted(
        {
            (chrom, pos + offset, base)
            for (chrom, pos, ref, _) in panel.hotspots
            for offset, base in enumerate(ref)
            if any(c == chrom and s <= pos <= e for c, s, e in windows)
        }
    )
    (root / "bam").mkdir()
    (root / "reference").mkdir()
    reference_rel = f"reference/{build}.bam_sites.fa.gz"
    write_reference(
        root / reference_rel,
        windows,
        build=build,
        seed=seed,
        known_bases=sorted(
            {(site.chrom, site.pos, site.ref) for site in sites} | set(hotspot_bases)
        ),
        chr_style=plan.chr_style,
    )
    depths = []
    for draw, observations in enumerate(draws):
        vaf = {obs.site: obs.true_vaf for obs in observations}
        fragments = int(np.clip(round(plan.mean_depths[draw] * BAM_DEPTH_FACTOR), *BAM_DEPTH_RANGE))
        depths.append(fragments)
        rel = f"bam/{plan.sample_id(draw)}.bam"
        write_plasma_bam(
            root / rel,
            root / reference_rel,
            [_site_params(site) | {"vaf": vaf[site]} for site in sites],
            sample=plan.sample_id(draw),
            seed=int(rng.integers(2**31)),
            depth=fragments,
            error_rate=BAM_ERROR_RATE,
            build=build,
        )
        files[draw].bam = rel
    return {
        "path": reference_rel,
        "patient": plan.patient,
        "regions": [[s.chrom, s.pos - BAM_WINDOW, s.pos + BAM_WINDOW] for s in sites],
        "contig_style": "chr" if plan.chr_style else "nochr",
        "fragments_per_site": depths,
    }


def _structural_params(structural: StructuralPlan, has_bam: bool, plan) -> dict:
    low_tf = structural.low_tf_target
    return {
        "copy_number_format": structural.cn_format,
        "sv_caller": structural.sv_caller,
        "tumor_fraction_in_sheet": structural.sheet_tumor_fraction,
        "amplifications": [
            {
                "gene": amp.gene, "clone": _clone_label(amp.carrier),
                "clone_copy_number": _rounded(amp.clone_cn),
                "amplicon": [amp.chrom, amp.amplicon_start, amp.amplicon_end],
            }
            for amp in structural.amplifications
        ],
        "diluted_amplification_target": None if low_tf is None else {
            "timepoint": f"T{low_tf['draw']}",
            "tumor_fraction": _rounded(low_tf["tumour_fraction"]),
            "clone_ccf": _rounded(low_tf["clone_ccf"]),
            "tumor_cn": _rounded(low_tf["tumour_cn"]),
            "plasma_cn": low_tf["plasma_cn"],
        },
        "arm_gains": [
            {"chrom": g.chrom, "arm": g.arm, "tumor_cn": _rounded(g.tumour_cn),
             "covers": list(g.covers)}
            for g in structural.arm_gains
        ],
        "fusions": [
            {
                "label": f.label, "clone": _clone_label(f.carrier),
                "five_prime": [f.five.chrom, f.five.pos, f.five.strand],
                "three_prime": [f.three.chrom, f.three.pos, f.three.strand],
            }
            for f in structural.fusions
        ],
        "non_panel_svs": [
            {"kind": e.kind, "genes": [e.gene_a, e.gene_b], "a": [e.a.chrom, e.a.pos, e.a.strand],
             "b": [e.b.chrom, e.b.pos, e.b.strand]}
            for e in structural.non_panel
        ],
        "bam": has_bam,
    }  # fmt: skip


def _write_normal_vcf(
    path: Path, plan: PatientPlan, normal_counts: dict[Site, tuple[int, int]], build: str,
    rng: np.random.Generator,
) -> None:  # fmt: skip
    """The white-blood-cell calls: every site with alt reads in the normal (germline and CH)."""
    writer = WRITERS["mutect2_tumor_only"]
    records = []
    for site in plan.all_sites():
        depth, alt = normal_counts[site]
        if alt == 0:
            continue
        # a CH/germline call set: the lab keeps every allele the blood carries, so no germline label
        filters = ("weak_evidence",) if is_weak(depth, alt) else ()
        records.append(
            CallRecord(site.chrom, site.pos, site.ref, site.alt, depth, alt, filters, site.category)
        )
    ctx = VcfContext(build, plan.chr_style, f"{plan.patient}_WBC", "", plan.baseline_date)
    write_vcf(path, render_vcf(writer, ctx, records, rng))


def _treatment_rows(plan: PatientPlan) -> list[tuple]:
    start = plan.day_date(plan.therapy_start_day).isoformat()
    end = "" if plan.withdrawal_day is None else plan.day_date(plan.withdrawal_day).isoformat()
    rows = [
        (plan.patient, plan.anti_egfr_agent, start, end, 1),
        (plan.patient, plan.backbone, start, end, 1),
    ]
    if plan.second_line_start_day is not None:
        second = plan.day_date(plan.second_line_start_day).isoformat()
        other_backbone = next(name for name in BACKBONES if name != plan.backbone)
        rows += [
            (plan.patient, other_backbone, second, "", 2),
            (plan.patient, SECOND_LINE_BIOLOGIC, second, "", 2),
        ]
    return rows
