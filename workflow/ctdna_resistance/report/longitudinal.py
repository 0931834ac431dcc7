"""Per-patient longitudinal HTML: every draw of one patient on one calendar-time axis.

Input is the patient's per-draw report dicts (workflow/schemas/report.schema.yaml) in date order and
the patient's treatment periods. The page shows VAF trajectories (log axis, LoD95 for
non-detections), tumour fraction, treatment bars with anti-EGFR exposure and withdrawal, a clone
plot, an alteration x draw heat map and the same numbers as tables. It decides nothing about
biology: statuses, trends and clones come from the reports.

This module puts the page together: the data are shaped in `longitudinal_data.py`, laid out in
`longitudinal_layout.py` and drawn as hand-written inline SVG in `longitudinal_svg.py` (with the
helpers of `svg.py`, which escape every text node and attribute); the page goes through the
per-draw report's autoescaping Jinja environment and inlines its CSS. No script, no external
resource, no timestamp.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from ctdna_resistance.report.html import (
    RESISTANCE_STATUS_LABELS,
    _environment,
    _label,
)
from ctdna_resistance.report.level_plot import level_rows, render_level_plot
from ctdna_resistance.report.longitudinal_data import (
    CLONES_UNAVAILABLE,
    TreatmentPeriod,
    alteration_rows,
    cell_grid,
    clone_prevalence,
    decay_rows,
    draw_views,
    treatment_dicts,
    treatment_period,
    value_cell,
)
from ctdna_resistance.report.longitudinal_svg import clone_svg, heatmap_svg, trajectory_svg
from ctdna_resistance.report.platform_marks import platform_label, shows_platforms
from ctdna_resistance.report.svg import format_percent

__all__ = ["CLONES_UNAVAILABLE", "render_longitudinal", "treatment_dicts"]

LONGITUDINAL_TEMPLATE = "longitudinal.html.j2"


def render_longitudinal(patient: str, reports: list[dict], treatments: list[dict]) -> str:
    """Render one patient's longitudinal page as a complete, self-contained HTML5 document.

    `reports` are the patient's per-draw report dicts in date order; `treatments` are dicts with
    agent, start_date, end_date (None = ongoing), line and anti_egfr. A report or treatment that
    names another patient is left out, so the page can never show someone else's data.
    """
    own_reports = sorted(
        (r for r in reports if r.get("patient") == patient),
        key=lambda r: (str(r.get("collection_date")), str(r.get("sample"))),
    )
    own_treatments = [
        treatment_period(t) for t in treatments if t.get("patient") in (None, patient)
    ]
    own_treatments.sort(key=lambda t: (t.start, t.agent, t.end or dt.date.max, t.line))
    view = _longitudinal_view(patient, own_reports, own_treatments)
    return _environment().get_template(LONGITUDINAL_TEMPLATE).render(view=view)


def _longitudinal_view(
    patient: str, reports: Sequence[Mapping], treatments: Sequence[TreatmentPeriod]
) -> dict:
    draws = draw_views(reports)
    alterations = alteration_rows(reports)
    grid = cell_grid(reports)
    last = reports[-1] if reports else {}
    resistance = last.get("resistance") or {}
    panel = last.get("panel") or {}
    provenance = last.get("provenance") or {}
    return {
        "patient": patient,
        "n_draws": len(draws),
        "first_date": draws[0].date.isoformat() if draws else "",
        "last_date": draws[-1].date.isoformat() if draws else "",
        "last_sample": draws[-1].sample if draws else "",
        "status": resistance.get("status", ""),
        "status_label": _label(RESISTANCE_STATUS_LABELS, resistance.get("status")),
        "headline": resistance.get("headline", "no draw reported"),
        "polyclonal": {True: "yes", False: "no", None: "not assessed"}[
            resistance.get("polyclonal")
        ],
        "genome_build": last.get("genome_build", ""),
        "draws": [
            {
                "sample": d.sample,
                "href": f"reports/{quote(d.sample)}.html",
                "timepoint": d.timepoint,
                "date": d.date.isoformat(),
                "days": "" if d.days_since_baseline is None else str(d.days_since_baseline),
                "therapy": d.therapy,
                "tumor_fraction": "not estimated"
                if d.tumor_fraction is None
                else format_percent(d.tumor_fraction),
                "tumor_fraction_method": d.tumor_fraction_method,
                "status_label": _label(RESISTANCE_STATUS_LABELS, d.status),
                "status": d.status,
                "headline": d.headline,
                "platform": ", ".join(platform_label(p) for p in d.platforms),
            }
            for d in draws
        ],
        # a page with a targeted-assay draw names the platform of every draw and value
        "by_platform": shows_platforms(p for d in draws for p in d.platforms),
        "treatments": [
            {
                "agent": t.agent,
                "line": t.line,
                "start": t.start.isoformat(),
                "end": t.end.isoformat() if t.end else "ongoing",
                "anti_egfr": t.anti_egfr,
            }
            for t in treatments
        ],
        "alterations": [
            {
                "key": a.key,
                "label": a.label,
                "gene": a.gene,
                "alteration": a.alteration,
                "cells": [
                    cell | {"platform_label": platform_label(cell["platform"])}
                    for cell in (value_cell(a, d, grid.get((a.key, d.sample))) for d in draws)
                ],
            }
            for a in alterations
        ],
        "trajectory_plot": trajectory_svg(draws, alterations, grid, treatments) if draws else None,
        "level_plot": render_level_plot(reports),
        "levels": level_rows(reports),
        "clone_plot": clone_svg(draws, alterations, grid, clone_prevalence(reports, draws)),
        "clones_unavailable": CLONES_UNAVAILABLE,
        "decay": decay_rows(reports),
        "heatmap": heatmap_svg(draws, alterations, grid) if draws and alterations else None,
        "software": provenance.get("software", "ctdna-resistance"),
        "version": provenance.get("version", ""),
        "panel_name": panel.get("name", ""),
        "panel_version": panel.get("version", ""),
        "panel_sha256": panel.get("sha256", ""),
    }
