"""A patient's clones (SPEC 5.6) and their decay after anti-EGFR withdrawal (SPEC 5.7).

Clusters the patient's small-variant resistance alterations together with its other somatic
small variants (clone markers: truncal and passenger variants outside the panel's alterations,
tracking.clone_marker_sites) by their read counts across draws (clones.cluster_clones), pools each
clone's reads per draw for its cellular prevalence, and fits exponential decay per resistant clone
(one that carries a panel alteration) over the draws after anti-EGFR therapy ended
(decay.fit_decay). Without a detected panel small variant there is no clone analysis. Copy-number
and fusion alterations carry no read counts comparable with SNVs and stay unassigned.

A marker's counts at a draw come from the caller's record there (PASS or filtered), else from the
draw's BAM or coverage file (tracking.marker_counts); a draw with none of these is uninformative
for it, as for panel sites. So, from VCFs alone, a clone absent at baseline (no record) is told
apart from the truncal clone only by the draws where it is seen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ctdna_resistance.clones import CloneResult, Trajectory, cluster_clones
from ctdna_resistance.decay import DecayFit, fit_decay
from ctdna_resistance.samplesheet import DEFAULT_ANTI_EGFR, Treatment
from ctdna_resistance.stats import lod95
from ctdna_resistance.tables import write_tsv
from ctdna_resistance.tracking import (
    SMALL_VARIANT_TYPES,
    DrawData,
    MarkerSite,
    Observation,
    marker_counts,
    small_variant_rows,
)

CLONE_COLUMNS = [
    "patient", "clone", "resistant", "members", "sample", "collection_date", "prevalence",
    "prevalence_low", "prevalence_high", "alt_reads", "depth", "half_life_days",
    "half_life_low", "half_life_high", "projected_below_lod", "decay_note",
]  # fmt: skip


@dataclass
class PatientClones:
    result: CloneResult | None
    members: dict[str, list[str]] = field(default_factory=dict)  # clone -> alteration labels
    decay: dict[str, DecayFit] = field(default_factory=dict)
    anti_egfr_end: dt.date | None = None
    # per draw: the clones with a member detected there (a panel alteration detected, or a
    # clone marker the caller called somatic in that draw)
    present: list[list[str]] = field(default_factory=list)
    # per draw: the clones with a panel alteration detected there (resistant clones only)
    resistance_present: list[list[str]] = field(default_factory=list)
    # per draw: the clones with a member measured there (a panel alteration assessed, or a
    # marker with reads); a draw measured by a targeted assay alone may assess only some
    assessed: list[list[str]] = field(default_factory=list)
    pooled: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)  # alt, depth

    def polyclonal_at(self, index: int) -> bool | None:
        """Two or more resistant clones detected at this draw by their panel alterations (None
        without clone analysis); a clone seen only through its markers does not count."""
        if self.result is None:
            return None
        return len(self.resistance_present[index]) >= 2


def anti_egfr_end_date(treatments: list[Treatment], agents=DEFAULT_ANTI_EGFR) -> dt.date | None:
    """The end of the last anti-EGFR course, when none is ongoing or restarted after it."""
    courses = [t for t in treatments if t.is_anti_egfr(agents)]
    if not courses or any(t.end_date is None for t in courses):
        return None
    return max(t.end_date for t in courses)


def track_clones(
    series: dict[str, list[Observation]],
    draws: list[DrawData],
    markers: dict[str, MarkerSite],
    treatments: list[Treatment],
    detection: dict,
    agents=DEFAULT_ANTI_EGFR,
) -> PatientClones:
    """Cluster the patient's small variants into clones; set ``obs.clone``; fit decay.

    Panel small variants ever detected and the patient's clone ``markers``
    (clone_marker_sites(draws)) are clustered together; a clone is resistant when it carries a
    panel alteration (SPEC 5.6)."""
    keys = [
        key
        for key, obs in series.items()
        if any(o.status == "detected" and o.row.get("type") in SMALL_VARIANT_TYPES for o in obs)
    ]
    end = anti_egfr_end_date(treatments, agents)
    if not keys:
        return PatientClones(
            None,
            anti_egfr_end=end,
            present=[[] for _ in draws],
            resistance_present=[[] for _ in draws],
            assessed=[[] for _ in draws],
        )
    trajectories = [
        Trajectory(
            key=key,
            alt_reads=[(o.alt_reads or 0) if o.depth else 0 for o in series[key]],
            depths=[o.depth or 0 for o in series[key]],
            resistant=True,  # a panel resistance alteration
        )
        for key in keys
    ]
    rows = [small_variant_rows(draw) for draw in draws]
    marker_depths = {}
    for key in markers:
        counts = [marker_counts(draw, key, r) for draw, r in zip(draws, rows, strict=True)]
        marker_depths[key] = [depth for _, depth in counts]
        if any(depth for _, depth in counts):
            trajectories.append(
                Trajectory(key, [a for a, _ in counts], [d for _, d in counts], resistant=False)
            )
    fractions = [d.accounting.get("tumor_fraction", {}).get("value") for d in draws]
    result = cluster_clones(
        trajectories,
        fractions,
        background_error=detection["background_error"],
        alpha=detection["alpha"],
    )
    clones = PatientClones(result, anti_egfr_end=end)
    for key, clone in result.assignments.items():
        if key in markers:
            clones.members.setdefault(clone, []).append(markers[key].label)
            continue
        for obs in series[key]:
            obs.clone = clone
        row = next(o.row for o in series[key] if o.row)
        clones.members.setdefault(clone, []).append(f"{row['gene']} {row['alteration']}")
    for index, draw in enumerate(draws):
        by_panel = {result.assignments[k] for k in keys if series[k][index].status == "detected"}
        called = draw.accounting.get("somatic_markers") or {}
        by_marker = {clone for key, clone in result.assignments.items() if key in called}
        clones.resistance_present.append(sorted(by_panel))
        clones.present.append(sorted(by_panel | by_marker))
        measured = {
            clone
            for key, clone in result.assignments.items()
            if (key in markers and marker_depths[key][index])
            or (key in series and series[key][index].status != "not_assessed")
        }
        clones.assessed.append(sorted(measured | by_panel | by_marker))
    by_key = {t.key: t for t in trajectories}
    for clone in sorted(clones.members):
        clones.pooled[clone] = _pooled(by_key, result, clone, len(draws))
    if end is not None:
        for clone in result.resistant_clones:  # SPEC 5.7: decay of resistant clones
            alt, depth = clones.pooled[clone]
            positive = [d for d in depth if d]
            lod = (
                lod95(
                    min(positive),
                    background_error=detection["background_error"],
                    alpha=detection["alpha"],
                    min_alt_reads=detection["min_alt_reads"],
                )
                if positive
                else None
            )
            dates = [d.sample.collection_date for d in draws]
            clones.decay[clone] = fit_decay(dates, alt, depth, end_date=end, lod95=lod)
    return clones


def _pooled(
    trajectories: dict[str, Trajectory], result: CloneResult, clone: str, n_draws: int
) -> tuple[list[int], list[int]]:
    """A clone's alt reads and depth per draw, summed over its members."""
    members = [trajectories[k] for k, c in result.assignments.items() if c == clone]
    alt = [sum(t.alt_reads[i] for t in members) for i in range(n_draws)]
    depth = [sum(t.depths[i] for t in members) for i in range(n_draws)]
    return alt, depth


def write_clones(path, patient: str, clones: PatientClones, draws: list[DrawData]) -> None:
    """clones.tsv: per clone and draw, the cellular prevalence with its interval, and decay."""
    rows = []
    if clones.result is not None:
        for clone in sorted(clones.members):
            alt, depth = clones.pooled[clone]
            fit = clones.decay.get(clone)
            for index, draw in enumerate(draws):
                estimate, low, high = clones.result.prevalence[clone][index]
                rows.append(
                    {
                        "patient": patient,
                        "clone": clone,
                        "resistant": clone in clones.result.resistant_clones,
                        "members": ";".join(sorted(clones.members[clone])),
                        "sample": draw.sample.sample,
                        "collection_date": draw.sample.collection_date.isoformat(),
                        "prevalence": estimate,
                        "prevalence_low": low,
                        "prevalence_high": high,
                        "alt_reads": alt[index],
                        "depth": depth[index],
                        **_decay_fields(fit, clones.anti_egfr_end),
                    }
                )
    write_tsv(path, CLONE_COLUMNS, rows)


def _decay_fields(fit: DecayFit | None, end: dt.date | None) -> dict:
    if fit is None:
        note = "anti-EGFR not stopped" if end is None else ""
        return {"decay_note": note}
    return {
        "half_life_days": fit.half_life_days,
        "half_life_low": fit.low,
        "half_life_high": fit.high,
        "projected_below_lod": fit.projected_below_lod.isoformat()
        if fit.projected_below_lod
        else "",
        "decay_note": fit.reason or fit.method,
    }
