"""The synthetic cohort's patients: schedule, treatment, tumour dynamics, sites and sampled counts.

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
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from ctdna_resistance.errors import InputError
from ctdna_resistance.simulate.genome import (
    CHIP_GENES,
    CONTIG_LENGTHS,
    CONTIG_RANK,
    GERMLINE_GENES,
    PASSENGER_GENES,
    TRUNCAL_GENES,
    non_panel_span,
)
from ctdna_resistance.simulate.panel_sites import PanelHotspot, PanelSites
from ctdna_resistance.simulate.vcf_writers import WRITERS

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


def rounded(value: float) -> float:
    """Six significant digits, so params.yaml is readable and stable."""
    return float(f"{value:.6g}")


def design_patient(
    index: int, n_draws: int, panel: PanelSites, build: str, rng: np.random.Generator,
    pre_existing: bool, on_anti_egfr_throughout: bool = False,
    avoid: frozenset[tuple[str, int]] = frozenset(),
) -> PatientPlan:  # fmt: skip
    """Draw one patient's schedule, treatment, tumour dynamics and variant sites (none at the
    ``avoid`` positions)."""
    role = index % 4
    dialect = DIALECT_ROTATION[role]
    # Draw p is the last draw on anti-EGFR for patients who progress and switch line before the
    # next draw. Roles 0 and 3 switch early so that two draws follow withdrawal (a decay can be
    # fitted); role 1 switches before the last draw; the others stay on anti-EGFR throughout and
    # progress at their last draw (as the patient followed by ddPCR does, whatever its role).
    if on_anti_egfr_throughout:
        last_on_therapy = n_draws - 1
    elif n_draws >= 3 and role in (0, 3):
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
    used: set[tuple[str, int]] = set(avoid)
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


def add_passengers(
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
        label = clone_label(clone.site)
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


def simulate_passengers(
    plan: PatientPlan, states: list, rng: np.random.Generator
) -> tuple[dict[Site, tuple[int, int]], list[list[Observation]]]:
    """Normal (depth, 0) and per-draw observations of the passengers, from their own stream."""
    writer = WRITERS[plan.dialect]
    sites = plan.passenger_sites()
    normal = {site: (sample_depth(rng, plan.normal_mean_depth), 0) for site in sites}
    carrier = {site: clone.site for clone in plan.clones for site in clone.passengers}
    draws = []
    for draw, (tf, ccf) in enumerate(states):
        observations = []
        for site in sites:
            vaf = tf * ccf[carrier[site]] / 2
            depth = sample_depth(rng, plan.mean_depths[draw])
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


def sample_depth(rng: np.random.Generator, mean: float) -> int:
    value = rng.negative_binomial(DEPTH_NB_SIZE, DEPTH_NB_SIZE / (DEPTH_NB_SIZE + mean))
    return max(int(value), MIN_DEPTH)


def _alt_reads(rng: np.random.Generator, depth: int, vaf: float) -> int:
    signal = int(rng.binomial(depth, min(vaf, 1.0)))
    noise = min(int(rng.binomial(depth - signal, BACKGROUND_ERROR_RATE)), MAX_ERROR_READS)
    return signal + noise


def sample_normal(plan: PatientPlan, rng: np.random.Generator) -> dict[Site, tuple[int, int]]:
    """Matched white-blood-cell (depth, alt reads) per site: one normal per patient."""
    blood_vaf = {site: vaf for site, vaf in plan.germline} | {site: vaf for site, vaf in plan.chip}
    counts = {}
    for site in plan.all_sites():
        depth = sample_depth(rng, plan.normal_mean_depth)
        vaf = blood_vaf.get(site, 0.0)
        counts[site] = (depth, int(rng.binomial(depth, vaf)) if vaf else 0)
    return counts


def simulate_draws(plan: PatientPlan, rng: np.random.Generator) -> list[list[Observation]]:
    writer = WRITERS[plan.dialect]
    draws = []
    for draw, day in enumerate(plan.draw_days):
        tf, ccf = tumour_state(plan, day)
        observations = []
        for site in plan.all_sites():
            vaf = _true_vaf(plan, site, tf, ccf)
            depth = sample_depth(rng, plan.mean_depths[draw])
            alt = _alt_reads(rng, depth, vaf)
            filters = writer.call_filters(site.category, depth, alt)
            observations.append(Observation(site, vaf, depth, alt, filters))
        draws.append(observations)
    return draws


def site_params(site: Site) -> dict:
    return {
        "gene": site.gene, "protein": site.protein, "chrom": site.chrom, "pos": site.pos,
        "ref": site.ref, "alt": site.alt,
    }  # fmt: skip


def patient_params(plan: PatientPlan, tumour_fractions: list[float]) -> dict:
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
        "true_tumor_fraction": [rounded(tf) for tf in tumour_fractions],
        "mean_depth": [rounded(depth) for depth in plan.mean_depths],
        "normal_mean_depth": rounded(plan.normal_mean_depth),
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
            "half_life_days_on_anti_egfr": rounded(plan.sensitive_half_life_days),
            "floor_fraction": rounded(plan.sensitive_floor),
            "regrowth_doubling_days_after_withdrawal": rounded(
                plan.sensitive_regrowth_doubling_days
            ),
        },
        "resistance_clones": [
            site_params(clone.site)
            | {
                "pre_existing": clone.pre_existing,
                "emergence_day": rounded(clone.emergence_day),
                "seed_burden": rounded(clone.seed_burden),
                "growth_per_day": rounded(clone.growth_per_day),
                "ccf_at_progression": rounded(clone.ccf_at_progression),
                "decay_half_life_days_after_withdrawal": rounded(plan.decay_half_life_days),
                "passengers": [site_params(site) for site in clone.passengers],
            }
            for clone in plan.clones
        ],
        "chip": [site_params(site) | {"blood_vaf": rounded(vaf)} for site, vaf in plan.chip],
    }


def clone_label(site: Site) -> str:
    """The clone a variant belongs to: a resistant clone is named by its point mutation."""
    if site.category == "resistance":
        return f"{site.gene} {site.protein}"
    if site.category == "passenger":
        return site.clone
    return "truncal" if site.category == "truncal" else ""
