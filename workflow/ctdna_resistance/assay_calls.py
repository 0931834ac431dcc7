"""Per-draw calls from a targeted assay (issue 17): each target the draw's wells measured ends
as a reported alteration (detected) or a filtered row with its reason, with the same columns as
sequencing's, so tracking follows one alteration across NGS and ddPCR/BEAMing draws.

Columns mean for an assay row: ``depth`` = copies analysed (mutant + wild-type, Poisson-corrected
for partitions, rounded), ``alt_reads`` = mutant copies (rounded), ``vaf`` = fractional abundance,
``p_value`` = the detection test of the mutant positive partitions (or copies) against the
plate's blank, ``lod95`` = the fraction detected with probability 0.95 at those copies
(partition_stats). Positive partitions, the interval, concentration and the blank are in the
accounting's ``assay.targets``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ctdna_resistance.assay_targets import UnknownTarget, resolve_target
from ctdna_resistance.errors import InputError
from ctdna_resistance.io.targeted_assay import read_assay_file
from ctdna_resistance.panel import Panel
from ctdna_resistance.partition_stats import (
    DEFAULT_TARGETED_ASSAY,
    measure,
    merge_wells,
    plate_blank,
)
from ctdna_resistance.samplesheet import Sample

_CONTROL_ROLES = ("ntc", "wildtype_control")


def assay_settings(config: dict | None) -> dict:
    settings = {**DEFAULT_TARGETED_ASSAY, "target_names": {}}
    settings.update((config or {}).get("targeted_assay") or {})
    return settings


@dataclass
class AssayCalls:
    alterations: list[dict] = field(default_factory=list)
    filtered: list[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)


def call_assay(sample: Sample, panel: Panel, config: dict | None, alpha: float) -> AssayCalls:
    """The draw's targets from its assay file (sheet column ``assay``), called and accounted."""
    settings = assay_settings(config)
    records = read_assay_file(sample.assay)
    name = sample.assay_sample or sample.sample
    mine = [r for r in records if r.sample == name and r.role not in _CONTROL_ROLES]
    if not mine:
        names = ", ".join(sorted({r.sample for r in records})) or "none"
        raise InputError(
            sample.assay,
            f"no wells of sample {name!r} (the file's samples: {names})",
            "set the sample sheet's assay_sample to the name the export uses",
        )
    controls = [r for r in records if r.role in _CONTROL_ROLES]
    by_key: dict[str, tuple] = {}
    for (_, target), group in merge_wells(mine).items():
        try:
            resolved = resolve_target(
                target, panel, group[0].gene, settings.get("target_names") or {}
            )
        except UnknownTarget as error:
            raise InputError(
                sample.assay, str(error), "rename the target", record=group[0].record_no
            ) from None
        if resolved.key in by_key:
            by_key[resolved.key][1].extend(group)  # the same allele under two names: merged
        else:
            by_key[resolved.key] = (resolved, list(group))
    calls = AssayCalls()
    targets = []
    for key in sorted(by_key):
        resolved, group = by_key[key]
        rates = settings.get("false_positive_rates") or {}
        rate = rates.get(group[0].target, settings["false_positive_rate"])
        blank = plate_blank(controls, group[0].target, rate)
        m = measure(
            group,
            blank,
            alpha=alpha,
            min_positive_partitions=settings["min_positive_partitions"],
            volume_nl=settings["partition_volume_nl"],
        )
        row = _row(sample, resolved, group, m, panel)
        positives = m.mutant_positives if m.mutant_positives is not None else m.alt_reads
        if m.detected:
            calls.alterations.append(row)
        else:
            if m.fraction is None:
                reason, detail = "unreadable_record", m.note or "no wild-type count"
            elif positives < settings["min_positive_partitions"]:
                reason = "low_alt_reads"
                detail = f"{positives} mutant positive(s) < {settings['min_positive_partitions']}"
            else:
                reason = "not_significant"
                detail = f"p={m.p_value:.3g} >= alpha {alpha} against the blank ({blank.source})"
            calls.filtered.append(_filtered(row, reason, detail))
        targets.append(_target_entry(resolved, m, group))
    platforms = sorted({r.platform for r in mine})
    calls.info = {
        "path": str(sample.assay),
        "platform": platforms[0] if len(platforms) == 1 else "+".join(platforms),
        "dialect": mine[0].dialect,
        "sample_in_file": name,
        "wells_read": len(mine),
        "control_wells": len(controls),
        "targets_read": len(targets),
        "targets_reported": len(calls.alterations),
        "targets_filtered": len(calls.filtered),
        # what the draw assessed: every other panel alteration was not assessed by the assay
        "assessed": sorted(by_key),
        "targets": targets,
    }
    return calls


def _row(sample, resolved, group, m, panel) -> dict:
    gene = panel.genes[resolved.gene]
    return {
        "sample": sample.sample,
        "key": resolved.key,
        "gene": resolved.gene,
        "alteration": resolved.alteration,
        "hgvsc": resolved.hgvsc,
        "transcript": gene.refseq,
        "panel_class": resolved.panel_class,
        "type": resolved.type,
        "mechanism": gene.mechanism,
        "chrom": resolved.chrom,
        "pos": resolved.pos,
        "ref": resolved.ref,
        "alt": resolved.alt,
        "depth": m.depth,
        "alt_reads": m.alt_reads,
        "vaf": m.fraction,
        "p_value": m.p_value,
        "lod95": m.lod95,
        "background_model": "plate_controls" if "control" in m.blank.source else "configured",
        "background_error": m.blank.per_wildtype_copy,
        "filters": "PASS",
        "caller": group[0].dialect,
        "record_no": group[0].record_no,
        "platform": group[0].platform,
    }


def _filtered(row: dict, reason: str, detail: str) -> dict:
    keep = (
        "sample", "record_no", "chrom", "pos", "ref", "alt", "key", "filters", "depth",
        "alt_reads", "vaf", "gene", "alteration", "lod95", "p_value", "platform",
    )  # fmt: skip
    return {k: row[k] for k in keep} | {"reason": reason, "detail": detail}


def _target_entry(resolved, m, group) -> dict:
    return {
        "key": resolved.key,
        "target": group[0].target,
        "alteration": f"{resolved.gene} {resolved.alteration}",
        "wells": list(m.wells),
        "mutant_positives": m.mutant_positives,
        "wildtype_positives": m.wildtype_positives,
        "accepted_partitions": m.accepted_partitions,
        # a saturated channel has no copy number (inf): null, as JSON has no infinity
        "mutant_copies": _finite(m.mutant_copies),
        "wildtype_copies": _finite(m.wildtype_copies),
        "fraction": m.fraction,
        "fraction_interval": [m.fraction_low, m.fraction_high],
        "mutant_copies_per_ul": m.concentration,
        "blank": m.blank.source,
        "limit_of_blank": m.limit_of_blank,
        "p_value": m.p_value,
        "detected": m.detected,
        "lod95": m.lod95,
    }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
