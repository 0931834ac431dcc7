"""The normal plasmas' recurrent artefacts in the patients' plasma draws (issue 20, item 5).

A recurrent artefact comes from the lab process, not the patient: every plasma run through it
shows the allele at a low level. At each recurrent artefact allele of ``simulate.normals`` each
draw gets an error rate from the allele's Beta (its mean and over-dispersion in the normals),
depth from the simulator's depth model, alt reads ~ Binomial(depth, rate), and (paired callers)
the matched normal's counts the same way; the dialect's caller writes it like any other low-level
allele (PASS, a weak-evidence FILTER, or no record when no read shows it). The records are
rendered with their own random stream and slotted into the draw's VCF text, so every other record
keeps its bytes. Truth rows have category ``artefact`` (``true_vaf`` = the draw's error rate).

BAMs: a patient BAM is written only around its resistance sites; an artefact inside those reads
is not written into them (none is in the demo cohort: P002's BAMs cover PIK3CA H1047, EGFR S492
and ERBB2 V842, no artefact allele).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ctdna_resistance.records import normalise_contig
from ctdna_resistance.simulate.genome import CONTIG_RANK
from ctdna_resistance.simulate.normals import NORMALS_STREAM, BackgroundDesign, SpecialAllele
from ctdna_resistance.simulate.vcf_writers import CallRecord, VcfContext

CATEGORY = "artefact"
_PART = 6  # the normals' stream part for the patients' artefacts: (seed, STREAM, 6, patient)


@dataclass(frozen=True, slots=True)
class ArtefactObservation:
    """One artefact allele in one draw: the error rate, counts and what the caller wrote."""

    allele: SpecialAllele
    error: float
    depth: int
    alt_reads: int
    normal_depth: int
    normal_alt_reads: int
    filters: tuple[str, ...] | None  # None: no record


def patient_streams(seed: int, patient_index: int) -> tuple[np.random.Generator, ...]:
    """(counts, cosmetic) generators of one patient's artefacts, apart from its other streams."""
    return tuple(
        np.random.default_rng([seed, NORMALS_STREAM, _PART, patient_index, part]) for part in (0, 1)
    )


def _beta(rng: np.random.Generator, mean: float, rho: float) -> float:
    scale = 1 / rho - 1
    return float(rng.beta(mean * scale, (1 - mean) * scale))


def observe_artefacts(
    design: BackgroundDesign, plan, draw: int, writer, depth_draw, rng: np.random.Generator
) -> list[ArtefactObservation]:
    """Each recurrent artefact in draw ``draw`` of ``plan`` (a cohort PatientPlan), but for an
    allele the patient truly carries; ``depth_draw(rng, mean)`` is the simulator's depth model."""
    sites = plan.all_sites() + plan.passenger_sites()
    patient_alleles = {(site.chrom, site.pos, site.ref, site.alt) for site in sites}
    mean_depth, normal_mean_depth = plan.mean_depths[draw], plan.normal_mean_depth
    observations = []
    for allele in design.artefacts:
        if (allele.chrom, allele.pos, allele.ref, allele.alt) in patient_alleles:
            continue
        error = _beta(rng, allele.mean, allele.rho)
        depth = depth_draw(rng, mean_depth)
        alt = int(rng.binomial(depth, error))
        normal_depth = depth_draw(rng, normal_mean_depth)
        normal_alt = int(rng.binomial(normal_depth, _beta(rng, allele.mean, allele.rho)))
        filters = writer.call_filters(CATEGORY, depth, alt)
        observations.append(
            ArtefactObservation(allele, error, depth, alt, normal_depth, normal_alt, filters)
        )
    return observations


def add_to_vcf(
    text: str, observations: list[ArtefactObservation], writer, ctx: VcfContext,
    rng: np.random.Generator,
) -> str:  # fmt: skip
    """The VCF text with the written artefact records slotted in by contig order and position."""
    new = []
    for obs in observations:
        if obs.filters is None:
            continue
        a = obs.allele
        record = CallRecord(
            a.chrom, a.pos, a.ref, a.alt, obs.depth, obs.alt_reads, obs.filters, CATEGORY,
            normal_depth=obs.normal_depth, normal_alt_reads=obs.normal_alt_reads,
        )  # fmt: skip
        new.append((record.sort_key, writer.format_record(record, ctx, rng)))
    if not new:
        return text
    lines = text.rstrip("\n").split("\n")
    n_header = sum(line.startswith("#") for line in lines)
    body = lines[n_header:]
    for key, line in sorted(new):
        # before the first record further along the genome; the others keep their order
        at = next(
            (i for i, old in enumerate(body) if _place(old) > key[:2]),
            len(body),
        )
        body.insert(at, line)
    return "\n".join(lines[:n_header] + body) + "\n"


def _place(line: str) -> tuple[int, int]:
    chrom, pos = line.split("\t", 2)[:2]
    return CONTIG_RANK[normalise_contig(chrom)], int(pos)


def truth_fields(obs: ArtefactObservation, tf: float) -> tuple:
    """The truth.tsv columns from category on (the layout of cohort._truth_fields)."""
    a = obs.allele
    written = obs.filters is not None
    filter_text = (";".join(obs.filters) or "PASS") if written else ""
    return (
        CATEGORY, a.gene, a.protein, a.chrom, a.pos, a.ref, a.alt, f"{obs.error:.6f}", obs.depth,
        obs.alt_reads, int(written), filter_text, "snv", "", "", f"{tf:.6f}", "", "", "", "", "",
    )  # fmt: skip
