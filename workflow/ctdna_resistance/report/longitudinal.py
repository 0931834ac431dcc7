"""Per-patient longitudinal HTML: every draw of one patient on one calendar-time axis.

Input is the patient's per-draw report dicts (workflow/schemas/report.schema.yaml) in date order and
the patient's treatment periods. The page shows VAF trajectories (log axis, LoD95 for
non-detections), tumour fraction, treatment bars with anti-EGFR exposure and withdrawal, a clone
plot, an alteration x draw heat map and the same numbers as tables. It decides nothing about
biology: statuses, trends and clones come from the reports.

All plots are hand-written inline SVG built with the helpers of `svg.py` (which escape every text
node and attribute); the page itself goes through the per-draw report's autoescaping Jinja
environment and inlines its CSS. No script, no external resource, no timestamp.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup

from ctdna_resistance.report.html import (
    RESISTANCE_STATUS_LABELS,
    STATUS_LABELS,
    TREND_LABELS,
    _environment,
    _label,
    _therapy_text,
    format_count,
    format_p_value,
)
from ctdna_resistance.report.level_plot import level_rows, render_level_plot
from ctdna_resistance.report.svg import (
    SERIES_COLOURS,
    SERIES_DASHES,
    _cross_path,
    _decade_label,
    _decade_range,
    _element,
    _num,
    _text,
    _title,
    date_ticks,
    format_percent,
    no_call_marker,
    point_marker,
    svg_document,
)

LONGITUDINAL_TEMPLATE = "longitudinal.html.j2"
CLONES_UNAVAILABLE = "clone analysis not available for this patient"

ANTI_EGFR_COLOUR = "#B00020"
OTHER_THERAPY_COLOUR = "#9AA0A6"
TUMOUR_FRACTION_COLOUR = "#333333"

# Geometry of the trajectory figure, in SVG user units (it scales to the page width).
_WIDTH = 900.0
_LEFT = 78.0
_RIGHT = 640.0
_LEGEND_LEFT = 660.0
_LEGEND_ROW = 18.0
_LANE = 16.0
_LANE_GAP = 4.0
_VAF_HEIGHT = 240.0
_ND_BAND = 24.0
_TF_HEIGHT = 100.0
_PANEL_GAP = 30.0
_X_LABEL_SPACE = 74.0
_DECADE_PAD = 0.12
# Treatment periods far from the draws would squeeze the draws into a corner: the time axis shows
# at most this much before the first and after the last draw (bars are clipped, hover gives dates).
_DAYS_BEFORE_FIRST_DRAW = 60
_DAYS_AFTER_LAST_DRAW = 45
_MAX_DATE_LABELS = 12

# Heat map geometry.
_HEAT_LABEL_WIDTH = 210.0
_HEAT_CELL_HEIGHT = 30.0
_HEAT_MAX_CELL_WIDTH = 96.0
_HEAT_HEADER = 46.0
# Detected cells are shaded by log10 VAF between these decades (0.01 % .. 10 %).
_HEAT_LOW_DECADE = -4.0
_HEAT_HIGH_DECADE = -1.0
_HEAT_EMPTY = {
    "not_detected": ("#ffffff", "n.d."),
    "not_evaluable": ("#e3e3e3", "n.e."),
    "not_assessed": ("#f3f3f3", "n.a."),
    None: ("#fafafa", "—"),
}


@dataclass(frozen=True)
class _Draw:
    sample: str
    timepoint: str
    date: dt.date
    days_since_baseline: int | None
    tumor_fraction: float | None
    tumor_fraction_method: str
    status: str
    headline: str
    therapy: str


@dataclass(frozen=True)
class _Cell:
    """One alteration at one draw, from that draw's report (or the last report's history)."""

    status: str | None
    vaf: float | None = None
    alt_reads: int | None = None
    depth: int | None = None
    lod95: float | None = None
    copy_number: float | None = None
    trend: str | None = None
    p_value: float | None = None
    clone: str | None = None


@dataclass(frozen=True)
class _Alteration:
    key: str
    gene: str
    alteration: str

    @property
    def label(self) -> str:
        return f"{self.gene} {self.alteration}".strip()


@dataclass(frozen=True)
class _Treatment:
    agent: str
    start: dt.date
    end: dt.date | None
    line: str
    anti_egfr: bool


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
    own_treatments = [_treatment(t) for t in treatments if t.get("patient") in (None, patient)]
    own_treatments.sort(key=lambda t: (t.start, t.agent, t.end or dt.date.max, t.line))
    view = _longitudinal_view(patient, own_reports, own_treatments)
    return _environment().get_template(LONGITUDINAL_TEMPLATE).render(view=view)


def treatment_dicts(treatments: Iterable, anti_egfr_agents: Sequence[str]) -> list[dict]:
    """`samplesheet.Treatment` objects as the dicts `render_longitudinal` and the cBioPortal
    export take (ISO dates, anti_egfr decided by the configured agent list)."""
    return [
        {
            "patient": t.patient,
            "agent": t.agent,
            "start_date": t.start_date.isoformat(),
            "end_date": t.end_date.isoformat() if t.end_date else None,
            "line": t.line,
            "anti_egfr": bool(t.is_anti_egfr(anti_egfr_agents)),
        }
        for t in treatments
    ]


# ----------------------------------------------------------------------------- reading


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _treatment(entry: Mapping) -> _Treatment:
    end = entry.get("end_date")
    return _Treatment(
        agent=str(entry.get("agent", "")),
        start=_as_date(entry["start_date"]),
        end=None if end in (None, "") else _as_date(end),
        line="" if entry.get("line") is None else str(entry.get("line")),
        anti_egfr=bool(entry.get("anti_egfr")),
    )


def _draws(reports: Sequence[Mapping]) -> list[_Draw]:
    draws = []
    for report in reports:
        tumor_fraction = report.get("tumor_fraction") or {}
        resistance = report.get("resistance") or {}
        draws.append(
            _Draw(
                sample=str(report.get("sample", "")),
                timepoint=str(report.get("timepoint", "")),
                date=_as_date(report["collection_date"]),
                days_since_baseline=report.get("days_since_baseline"),
                tumor_fraction=tumor_fraction.get("value"),
                tumor_fraction_method=str(tumor_fraction.get("method", "")),
                status=str(resistance.get("status", "")),
                headline=str(resistance.get("headline", "")),
                therapy=_therapy_text(report.get("anti_egfr") or {}),
            )
        )
    return draws


def _alterations(reports: Sequence[Mapping]) -> list[_Alteration]:
    """Every alteration of the patient: the last report's history order, then any other."""
    seen: dict[str, _Alteration] = {}
    last_history = reports[-1].get("history", []) if reports else []
    for entry in [
        *last_history,
        *(a for r in reports for a in [*r.get("alterations", []), *r.get("not_detected", [])]),
    ]:
        key = str(entry.get("key", ""))
        if key and key not in seen:
            seen[key] = _Alteration(
                key, str(entry.get("gene", "")), str(entry.get("alteration", ""))
            )
    return list(seen.values())


def _grid(reports: Sequence[Mapping]) -> dict[tuple[str, str], _Cell]:
    """(alteration key, sample) -> what that draw's report says about it."""
    grid: dict[tuple[str, str], _Cell] = {}
    # History points first (they carry status, VAF and LoD95 of every draw), then each draw's own
    # alteration entries, which add reads, trend and clone, override.
    for report in reports:
        for entry in report.get("history", []):
            for point in entry.get("points", []):
                grid[(str(entry.get("key")), str(point.get("sample")))] = _Cell(
                    status=point.get("status"), vaf=point.get("vaf"), lod95=point.get("lod95")
                )
    for report in reports:
        sample = str(report.get("sample"))
        for entry in [*report.get("alterations", []), *report.get("not_detected", [])]:
            grid[(str(entry.get("key")), sample)] = _Cell(
                status=entry.get("status"),
                vaf=entry.get("vaf"),
                alt_reads=entry.get("alt_reads"),
                depth=entry.get("depth"),
                lod95=entry.get("lod95"),
                copy_number=entry.get("copy_number"),
                trend=entry.get("trend"),
                p_value=entry.get("p_value"),
                clone=entry.get("clone"),
            )
    return grid


# ----------------------------------------------------------------------------- view model


def _reads_text(cell: _Cell) -> str:
    if cell.alt_reads is None and cell.depth is None:
        return ""
    return f"{format_count(cell.alt_reads)} / {format_count(cell.depth)}"


def _value_cell(alteration: _Alteration, draw: _Draw, cell: _Cell | None) -> dict:
    if cell is None:
        return {
            "key": alteration.key,
            "sample": draw.sample,
            "status": "",
            "status_label": "no record",
            "vaf": "",
            "reads": "",
            "lod95": "",
            "trend": "",
            "p_value": "",
            "copy_number": "",
        }
    return {
        "key": alteration.key,
        "sample": draw.sample,
        "status": cell.status or "",
        "status_label": _label(STATUS_LABELS, cell.status),
        "vaf": format_percent(cell.vaf) if cell.vaf is not None else "",
        "reads": _reads_text(cell),
        "lod95": format_percent(cell.lod95) if cell.lod95 is not None else "",
        "trend": _label(TREND_LABELS, cell.trend) if cell.trend else "",
        "p_value": format_p_value(cell.p_value),
        "copy_number": "" if cell.copy_number is None else f"CN {cell.copy_number:.1f}",
    }


def _longitudinal_view(
    patient: str, reports: Sequence[Mapping], treatments: Sequence[_Treatment]
) -> dict:
    draws = _draws(reports)
    alterations = _alterations(reports)
    grid = _grid(reports)
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
            }
            for d in draws
        ],
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
                "cells": [_value_cell(a, d, grid.get((a.key, d.sample))) for d in draws],
            }
            for a in alterations
        ],
        "trajectory_plot": _trajectory_svg(draws, alterations, grid, treatments) if draws else None,
        "level_plot": render_level_plot(reports),
        "levels": level_rows(reports),
        "clone_plot": _clone_svg(draws, alterations, grid, _clone_prevalence(reports, draws)),
        "clones_unavailable": CLONES_UNAVAILABLE,
        "decay": _decay_rows(reports),
        "heatmap": _heatmap_svg(draws, alterations, grid) if draws and alterations else None,
        "software": provenance.get("software", "ctdna-resistance"),
        "version": provenance.get("version", ""),
        "panel_name": panel.get("name", ""),
        "panel_version": panel.get("version", ""),
        "panel_sha256": panel.get("sha256", ""),
    }


# ----------------------------------------------------------------------------- time axis


class _TimeAxis:
    """Calendar date -> x, over the draws and the treatment periods near them."""

    def __init__(self, draws: Sequence[_Draw], treatments: Sequence[_Treatment] = ()) -> None:
        first = min(d.date for d in draws)
        last = max(d.date for d in draws)
        dates = [d.date for d in draws]
        for treatment in treatments:
            dates.append(treatment.start)
            if treatment.end:
                dates.append(treatment.end)
        low = max(min(dates), first - dt.timedelta(days=_DAYS_BEFORE_FIRST_DRAW))
        high = min(max(dates), last + dt.timedelta(days=_DAYS_AFTER_LAST_DRAW))
        low_day, high_day = low.toordinal(), high.toordinal()
        if high_day - low_day < 1:
            low_day, high_day = low_day - 14, high_day + 14
        pad = (high_day - low_day) * 0.03
        self.low_day, self.high_day = low_day - pad, high_day + pad
        self.first_visible = dt.date.fromordinal(math.ceil(self.low_day))
        self.last_visible = dt.date.fromordinal(math.floor(self.high_day))

    def x(self, day: dt.date) -> float:
        fraction = (day.toordinal() - self.low_day) / (self.high_day - self.low_day)
        fraction = min(max(fraction, 0.0), 1.0)
        return _LEFT + fraction * (_RIGHT - _LEFT)


def _date_ticks(parts: list[str], axis: _TimeAxis, draws: Sequence[_Draw], y: float) -> None:
    """A tick and a rotated date label per distinct draw date, thinned when there are many."""
    dates = sorted({d.date for d in draws})
    date_ticks(
        parts,
        [day.isoformat() for day in dates],
        lambda iso: axis.x(dt.date.fromisoformat(iso)),
        y,
        _MAX_DATE_LABELS,
    )


def _svg(parts: list[str], css_class: str, title_id: str, height: float) -> Markup:
    return svg_document(parts, css_class, title_id, _WIDTH, height)


def _hline(y: float, stroke: str, css_class: str) -> str:
    return _element(
        "line",
        class_=css_class,
        x1=_num(_LEFT),
        x2=_num(_RIGHT),
        y1=_num(y),
        y2=_num(y),
        stroke=stroke,
    )


def _axis_label(parts: list[str], text: str, top: float, height: float) -> None:
    x, y = 14.0, top + height / 2
    parts.append(
        _element(
            "text",
            _text(text),
            x=_num(x),
            y=_num(y),
            text_anchor="middle",
            font_size="12",
            transform=f"rotate(-90 {_num(x)} {_num(y)})",
        )
    )


def _legend_row(parts: list[str], row_y: float, symbol: str, text: str) -> None:
    parts.append(
        _element(
            "g",
            symbol,
            _element(
                "text", _text(text), x=_num(_LEGEND_LEFT + 28), y=_num(row_y + 4), font_size="11"
            ),
            class_="legend-entry",
        )
    )


# ----------------------------------------------------------------------------- trajectories


def _placement(cell: _Cell | None) -> tuple[str, float | None]:
    """Where a point goes: detected at VAF, not detected at LoD95, floor strip, or no call."""
    if cell is None:
        return "none", None
    if cell.status == "detected":
        if cell.vaf is not None and cell.vaf > 0:
            return "detected", float(cell.vaf)
        return "none", None  # e.g. an amplification without VAF
    if cell.status == "not_detected":
        if cell.lod95 is not None and cell.lod95 > 0:
            return "lod", float(cell.lod95)
        return "floor", None
    return "no_call", None


def _point_hover(label: str, draw: _Draw, cell: _Cell, placement: str) -> str:
    where = f"{draw.sample} ({draw.date.isoformat()})"
    if placement == "detected":
        what = f"VAF {format_percent(cell.vaf)}, detected"
        if cell.alt_reads is not None:
            what += f", {_reads_text(cell)} reads"
    elif placement == "lod":
        what = f"not detected, LoD95 {format_percent(cell.lod95)}"
    elif placement == "floor":
        what = "not detected, LoD95 unknown"
    else:
        what = _label(STATUS_LABELS, cell.status)
    return f"{label} — {where}: {what}"


def _trajectory_svg(
    draws: Sequence[_Draw],
    alterations: Sequence[_Alteration],
    grid: Mapping[tuple[str, str], _Cell],
    treatments: Sequence[_Treatment],
) -> Markup:
    """VAF trajectories (log axis), treatment lanes above and tumour fraction below, one x axis."""
    axis = _TimeAxis(draws, treatments)
    parts: list[str] = [
        _element(
            "title", _text("VAF, tumour fraction and treatment over time"), id="trajectory-title"
        )
    ]

    # Treatment lanes: one per agent, in order of first start.
    lane_agents: list[str] = []
    for treatment in treatments:
        if treatment.agent not in lane_agents:
            lane_agents.append(treatment.agent)
    lanes_top = 22.0
    parts.append(
        _element(
            "text",
            "Treatment",
            x=_num(_LEFT - 6),
            y=_num(lanes_top - 8),
            text_anchor="end",
            font_size="11",
        )
    )
    for index, agent in enumerate(lane_agents):
        y = lanes_top + index * (_LANE + _LANE_GAP)
        parts.append(
            _element(
                "rect",
                class_="lane",
                x=_num(_LEFT),
                y=_num(y),
                width=_num(_RIGHT - _LEFT),
                height=_num(_LANE),
                fill="#fafafa",
            )
        )
        for treatment in (t for t in treatments if t.agent == agent):
            parts.append(_treatment_bar(axis, treatment, y))
        parts.append(
            _element(
                "text",
                _text(agent),
                x=_num(_RIGHT + 8),
                y=_num(y + _LANE - 4),
                font_size="11",
                class_="lane-label",
            )
        )
    if not lane_agents:
        parts.append(
            _element(
                "text",
                "no treatment timeline given",
                x=_num(_LEFT + 6),
                y=_num(lanes_top + _LANE - 4),
                font_size="11",
                fill="#5f6368",
            )
        )
    lanes_bottom = lanes_top + max(len(lane_agents), 1) * (_LANE + _LANE_GAP)

    # VAF panel.
    vaf_top = lanes_bottom + 22.0
    decade_bottom = vaf_top + _VAF_HEIGHT
    vaf_bottom = decade_bottom + _ND_BAND
    floor_y = decade_bottom + _ND_BAND / 2
    placed = {
        (a.key, d.sample): _placement(grid.get((a.key, d.sample)))
        for a in alterations
        for d in draws
    }
    low_decade, high_decade = _decade_range(v for _, v in placed.values() if v)
    y_low, y_high = low_decade - _DECADE_PAD, high_decade + _DECADE_PAD / 2

    def vaf_y(fraction: float) -> float:
        position = (math.log10(fraction) - y_low) / (y_high - y_low)
        return decade_bottom - min(max(position, 0.0), 1.0) * _VAF_HEIGHT

    parts.append(
        _element(
            "rect",
            class_="plot-area",
            x=_num(_LEFT),
            y=_num(vaf_top),
            width=_num(_RIGHT - _LEFT),
            height=_num(vaf_bottom - vaf_top),
            fill="#ffffff",
            stroke="#999999",
        )
    )
    parts.append(
        _element(
            "rect",
            class_="nd-band",
            x=_num(_LEFT),
            y=_num(decade_bottom),
            width=_num(_RIGHT - _LEFT),
            height=_num(_ND_BAND),
            fill="#f2f2f2",
        )
    )
    for decade in range(low_decade, high_decade):
        for multiple in (2, 5):
            parts.append(_hline(vaf_y(multiple * 10.0**decade), "#eeeeee", "grid minor"))
    for decade in range(low_decade, high_decade + 1):
        y = vaf_y(10.0**decade)
        parts.append(_hline(y, "#dddddd", "grid"))
        parts.append(
            _element(
                "text",
                _text(_decade_label(decade)),
                x=_num(_LEFT - 6),
                y=_num(y + 4),
                text_anchor="end",
                font_size="11",
            )
        )
    parts.append(
        _element(
            "text",
            "n.d.",
            x=_num(_LEFT - 6),
            y=_num(floor_y + 4),
            text_anchor="end",
            font_size="11",
        )
    )
    _axis_label(parts, "VAF (log scale)", vaf_top, _VAF_HEIGHT)

    # Tumour fraction panel.
    tf_top = vaf_bottom + _PANEL_GAP
    tf_bottom = tf_top + _TF_HEIGHT
    fractions = [d.tumor_fraction for d in draws if d.tumor_fraction is not None]
    tf_max = _nice_ceiling(max(fractions) * 1.15) if fractions else 0.1

    def tf_y(fraction: float) -> float:
        return tf_bottom - min(max(fraction / tf_max, 0.0), 1.0) * _TF_HEIGHT

    parts.append(
        _element(
            "rect",
            class_="plot-area tf-area",
            x=_num(_LEFT),
            y=_num(tf_top),
            width=_num(_RIGHT - _LEFT),
            height=_num(_TF_HEIGHT),
            fill="#ffffff",
            stroke="#999999",
        )
    )
    for fraction in (0.0, tf_max / 2, tf_max):
        y = tf_y(fraction)
        parts.append(_hline(y, "#dddddd", "grid"))
        parts.append(
            _element(
                "text",
                _text(_percent_tick(fraction)),
                x=_num(_LEFT - 6),
                y=_num(y + 4),
                text_anchor="end",
                font_size="11",
            )
        )
    _axis_label(parts, "Tumour fraction", tf_top, _TF_HEIGHT)

    # Faint vertical rule at each draw through both panels, so values line up by eye.
    for draw in draws:
        x = axis.x(draw.date)
        parts.append(
            _element(
                "line",
                class_="draw-rule",
                x1=_num(x),
                x2=_num(x),
                y1=_num(vaf_top),
                y2=_num(tf_bottom),
                stroke="#e6e6e6",
            )
        )

    # Anti-EGFR withdrawal: a dashed red rule through every panel at each anti-EGFR end date.
    for treatment in treatments:
        if not (treatment.anti_egfr and treatment.end):
            continue
        if not axis.first_visible <= treatment.end <= axis.last_visible:
            continue
        x = axis.x(treatment.end)
        parts.append(
            _element(
                "line",
                _title(f"{treatment.agent} stopped {treatment.end.isoformat()}"),
                class_="withdrawal",
                x1=_num(x),
                x2=_num(x),
                y1=_num(lanes_top),
                y2=_num(tf_bottom),
                stroke=ANTI_EGFR_COLOUR,
                stroke_width="1.5",
                stroke_dasharray="5 3",
            )
        )
        parts.append(
            _element(
                "text",
                "anti-EGFR stopped",
                x=_num(x + 4),
                y=_num(vaf_top + 12),
                font_size="10",
                fill=ANTI_EGFR_COLOUR,
                class_="withdrawal-label",
            )
        )

    # One group per alteration: segments (solid between detections, dashed through a
    # non-detection), then markers with hover text.
    for index, alteration in enumerate(alterations):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        dash = SERIES_DASHES[(index // len(SERIES_COLOURS)) % len(SERIES_DASHES)]
        joined: list[tuple[float, float, bool]] = []
        markers: list[str] = []
        for draw in draws:
            cell = grid.get((alteration.key, draw.sample))
            placement, value = placed[(alteration.key, draw.sample)]
            if placement == "none" or cell is None:
                continue
            x = axis.x(draw.date)
            hover = _title(_point_hover(alteration.label, draw, cell, placement))
            if placement == "no_call":
                markers.append(no_call_marker(hover, x, floor_y, colour))
                continue
            y = vaf_y(value) if value else floor_y
            detected = placement == "detected"
            joined.append((x, y, detected))
            markers.append(point_marker(hover, x, y, colour, detected=detected))
        segments = []
        for (x1, y1, detected1), (x2, y2, detected2) in itertools.pairwise(joined):
            both = detected1 and detected2
            segments.append(
                _element(
                    "line",
                    class_="segment" if both else "segment through-lod",
                    x1=_num(x1),
                    y1=_num(y1),
                    x2=_num(x2),
                    y2=_num(y2),
                    stroke=colour,
                    stroke_width="2" if both else "1.5",
                    stroke_dasharray=dash if both else "4 3",
                )
            )
        parts.append(
            _element(
                "g",
                _title(alteration.label),
                *segments,
                *markers,
                class_="series",
                data_key=alteration.key,
            )
        )

    # Tumour fraction points.
    tf_points = [
        (axis.x(d.date), tf_y(d.tumor_fraction), d) for d in draws if d.tumor_fraction is not None
    ]
    if tf_points:
        parts.append(
            _element(
                "polyline",
                class_="tf-line",
                points=" ".join(f"{_num(x)},{_num(y)}" for x, y, _ in tf_points),
                fill="none",
                stroke=TUMOUR_FRACTION_COLOUR,
                stroke_width="1.5",
            )
        )
        for x, y, draw in tf_points:
            parts.append(
                _element(
                    "rect",
                    _title(
                        f"{draw.sample} ({draw.date.isoformat()}): tumour fraction "
                        f"{format_percent(draw.tumor_fraction)} ({draw.tumor_fraction_method})"
                    ),
                    class_="marker tf",
                    x=_num(x - 4),
                    y=_num(y - 4),
                    width="8",
                    height="8",
                    fill=TUMOUR_FRACTION_COLOUR,
                )
            )
    else:
        parts.append(
            _element(
                "text",
                "tumour fraction not estimated for any draw",
                x=_num((_LEFT + _RIGHT) / 2),
                y=_num(tf_top + _TF_HEIGHT / 2 + 4),
                text_anchor="middle",
                font_size="12",
                fill="#5f6368",
                class_="tf-missing",
            )
        )

    _date_ticks(parts, axis, draws, tf_bottom)
    height_axis = tf_bottom + _X_LABEL_SPACE
    parts.append(
        _element(
            "text",
            "Collection date",
            x=_num((_LEFT + _RIGHT) / 2),
            y=_num(height_axis - 6),
            text_anchor="middle",
            font_size="12",
        )
    )

    # Legend: one row per alteration, then the marker and treatment keys.
    row_y = vaf_top + 6
    for index, alteration in enumerate(alterations):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        dash = SERIES_DASHES[(index // len(SERIES_COLOURS)) % len(SERIES_DASHES)]
        symbol = _element(
            "line",
            x1=_num(_LEGEND_LEFT),
            x2=_num(_LEGEND_LEFT + 22),
            y1=_num(row_y),
            y2=_num(row_y),
            stroke=colour,
            stroke_width="2",
            stroke_dasharray=dash,
        ) + _element("circle", cx=_num(_LEGEND_LEFT + 11), cy=_num(row_y), r="3.5", fill=colour)
        _legend_row(parts, row_y, symbol, alteration.label)
        row_y += _LEGEND_ROW
    row_y += _LEGEND_ROW * 0.5
    key_x = _LEGEND_LEFT + 11
    for draw_symbol, meaning in _marker_keys(key_x):
        _legend_row(parts, row_y, draw_symbol(row_y), meaning)
        row_y += _LEGEND_ROW

    height = max(height_axis, row_y + 10)
    return _svg(parts, "trajectory-plot", "trajectory-title", height)


def _marker_keys(key_x: float) -> list[tuple[Callable[[float], str], str]]:
    """Legend symbols (drawn at a given row y) and what they mean."""

    def bar(colour: str) -> Callable[[float], str]:
        return lambda y: _element(
            "rect", x=_num(_LEGEND_LEFT), y=_num(y - 5), width="22", height="10", fill=colour
        )

    return [
        (
            lambda y: _element("circle", cx=_num(key_x), cy=_num(y), r="4", fill="#555555"),
            "detected",
        ),
        (
            lambda y: _element(
                "circle",
                cx=_num(key_x),
                cy=_num(y),
                r="4",
                fill="#ffffff",
                stroke="#555555",
                stroke_width="1.5",
            ),
            "not detected, at LoD95",
        ),
        (
            lambda y: _element(
                "line",
                x1=_num(_LEGEND_LEFT),
                x2=_num(_LEGEND_LEFT + 22),
                y1=_num(y),
                y2=_num(y),
                stroke="#555555",
                stroke_width="1.5",
                stroke_dasharray="4 3",
            ),
            "through a non-detection",
        ),
        (
            lambda y: _element(
                "path", d=_cross_path(key_x, y), stroke="#555555", stroke_width="1.5", fill="none"
            ),
            "not assessed / not evaluable",
        ),
        (
            lambda y: _element(
                "rect",
                x=_num(key_x - 4),
                y=_num(y - 4),
                width="8",
                height="8",
                fill=TUMOUR_FRACTION_COLOUR,
            ),
            "tumour fraction",
        ),
        (bar(ANTI_EGFR_COLOUR), "anti-EGFR therapy"),
        (bar(OTHER_THERAPY_COLOUR), "other therapy"),
    ]


def _treatment_bar(axis: _TimeAxis, treatment: _Treatment, y: float) -> str:
    """One treatment period as a bar in its lane; an ongoing period runs to the axis end."""
    start_x = axis.x(treatment.start)
    end_x = axis.x(treatment.end) if treatment.end else _RIGHT
    colour = ANTI_EGFR_COLOUR if treatment.anti_egfr else OTHER_THERAPY_COLOUR
    end = treatment.end.isoformat() if treatment.end else "ongoing"
    period = f"{treatment.start.isoformat()} to {end}"
    line = f", line {treatment.line}" if treatment.line else ""
    kind = "anti-EGFR" if treatment.anti_egfr else "other therapy"
    return _element(
        "rect",
        _title(f"{treatment.agent} ({kind}{line}): {period}"),
        class_="treatment anti-egfr" if treatment.anti_egfr else "treatment",
        x=_num(start_x),
        y=_num(y + 2),
        width=_num(max(end_x - start_x, 2.0)),
        height=_num(_LANE - 4),
        fill=colour,
        rx="2",
    )


def _nice_ceiling(value: float) -> float:
    """Smallest of 1, 2, 5 x 10^k at or above `value`, capped at 1 (100 %)."""
    if value <= 0:
        return 0.1
    exponent = math.floor(math.log10(value))
    for multiple in (1, 2, 5, 10):
        candidate = multiple * 10.0**exponent
        if candidate >= value - 1e-12:
            return min(candidate, 1.0)
    return 1.0


def _percent_tick(fraction: float) -> str:
    percent = fraction * 100
    return f"{percent:.0f}%" if percent >= 10 or percent == 0 else f"{percent:.1f}%"


# ----------------------------------------------------------------------------- clones


def _decay_rows(reports: Sequence[Mapping]) -> list[dict]:
    """Each clone's decay fit after withdrawal, from the latest report (empty without one)."""
    if not reports:
        return []

    def days(value) -> str:
        return "—" if value is None else f"{value:.0f}"

    rows = []
    for entry in reports[-1].get("clones") or []:
        if entry.get("decay_note") is None:
            continue
        half = entry.get("half_life_days")
        rows.append(
            {
                "clone": entry["clone"],
                "members": ", ".join(entry.get("members") or []),
                "half_life": days(half),
                "interval": "—"
                if half is None
                else f"{days(entry.get('half_life_low'))} to {days(entry.get('half_life_high'))}",
                "projected": entry.get("projected_below_lod") or "—",
                "note": entry.get("decay_note") or "",
            }
        )
    return rows


def _clone_prevalence(
    reports: Sequence[Mapping], draws: Sequence[_Draw]
) -> dict[str, list[tuple[_Draw, float, float, float]]] | None:
    """Each clone's cellular prevalence and 95% interval per draw, from the reports' `clones`
    (the clone model's own estimates); None when any draw lacks them (tumour fraction unknown)."""
    by_sample = {r.get("sample"): r for r in reports}
    series: dict[str, list[tuple[_Draw, float, float, float]]] = {}
    for draw in draws:
        for entry in by_sample.get(draw.sample, {}).get("clones") or []:
            values = (
                entry.get("prevalence"),
                entry.get("prevalence_low"),
                entry.get("prevalence_high"),
            )
            if any(v is None for v in values):
                return None
            series.setdefault(str(entry["clone"]), []).append((draw, *map(float, values)))
    if not series or any(len(points) != len(draws) for points in series.values()):
        return None
    return series


def _clone_svg(
    draws: Sequence[_Draw],
    alterations: Sequence[_Alteration],
    grid: Mapping[tuple[str, str], _Cell],
    prevalence: Mapping[str, list[tuple[_Draw, float, float, float]]] | None = None,
) -> Markup | None:
    """Cellular prevalence of each clone over time, or None when no alteration has a clone.

    With ``prevalence`` (the clone model's estimates with 95% intervals, from the reports) those
    are drawn, with the interval as a vertical bar. Otherwise a clone's value at a draw is the
    mean VAF of its alterations there (0 when none is detected), turned into cellular prevalence
    as 2 x VAF / tumour fraction when every draw has a tumour fraction, else the mean VAF itself.
    Every clone here carries a panel alteration, so every clone is marked resistant.
    """
    members: dict[str, list[_Alteration]] = {}
    for alteration in alterations:
        clone = next(
            (
                grid[(alteration.key, d.sample)].clone
                for d in reversed(draws)
                if (alteration.key, d.sample) in grid and grid[(alteration.key, d.sample)].clone
            ),
            None,
        )
        if clone:
            members.setdefault(str(clone), []).append(alteration)
    if not members or not draws:
        return None
    use_prevalence = prevalence is not None or all(d.tumor_fraction for d in draws)
    series: list[tuple[str, list[tuple[_Draw, float]]]] = []
    intervals: dict[str, list[tuple[_Draw, float, float]]] = {}
    for clone in sorted(members):
        if prevalence is not None and clone in prevalence:
            series.append((clone, [(d, est) for d, est, _, _ in prevalence[clone]]))
            intervals[clone] = [(d, low, high) for d, _, low, high in prevalence[clone]]
            continue
        points = []
        for draw in draws:
            vafs = [
                grid[(a.key, draw.sample)].vaf or 0.0
                for a in members[clone]
                if (a.key, draw.sample) in grid
                and grid[(a.key, draw.sample)].status in ("detected", "not_detected")
            ]
            if not vafs:
                continue
            mean_vaf = sum(vafs) / len(vafs)
            value = min(2 * mean_vaf / draw.tumor_fraction, 1.0) if use_prevalence else mean_vaf
            points.append((draw, value))
        series.append((clone, points))

    axis = _TimeAxis(draws)
    top, height_plot = 20.0, 180.0
    bottom = top + height_plot
    values = [v for _, points in series for _, v in points]
    y_max = 1.0 if use_prevalence else _nice_ceiling(max([*values, 0.001]) * 1.15)

    def y_of(value: float) -> float:
        return bottom - min(max(value / y_max, 0.0), 1.0) * height_plot

    parts = [
        _element("title", _text("Clones over time"), id="clone-title"),
        _element(
            "rect",
            class_="plot-area",
            x=_num(_LEFT),
            y=_num(top),
            width=_num(_RIGHT - _LEFT),
            height=_num(height_plot),
            fill="#ffffff",
            stroke="#999999",
        ),
    ]
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = y_of(fraction * y_max)
        parts.append(_hline(y, "#dddddd", "grid"))
        parts.append(
            _element(
                "text",
                _text(_percent_tick(fraction * y_max)),
                x=_num(_LEFT - 6),
                y=_num(y + 4),
                text_anchor="end",
                font_size="11",
            )
        )
    _axis_label(
        parts,
        "Cellular prevalence" if use_prevalence else "Clone VAF (mean)",
        top,
        height_plot,
    )
    row_y = top + 6
    for index, (clone, points) in enumerate(series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        label = f"{clone} (resistant: {', '.join(a.label for a in members[clone])})"
        coords = [(axis.x(d.date), y_of(v), d, v) for d, v in points]
        markers = [
            _element(
                "circle",
                _title(
                    f"{clone} — {d.sample} ({d.date.isoformat()}): "
                    f"{'cellular prevalence' if use_prevalence else 'mean VAF'} {format_percent(v)}"
                ),
                class_="marker clone",
                cx=_num(x),
                cy=_num(y),
                r="4.5",
                fill=colour,
            )
            for x, y, d, v in coords
        ]
        line = _element(
            "polyline",
            class_="clone-line",
            points=" ".join(f"{_num(x)},{_num(y)}" for x, y, _, _ in coords),
            fill="none",
            stroke=colour,
            stroke_width="2.5",
        )
        bars = [
            _element(
                "line",
                class_="clone-interval",
                x1=_num(axis.x(d.date)),
                x2=_num(axis.x(d.date)),
                y1=_num(y_of(low)),
                y2=_num(y_of(high)),
                stroke=colour,
                stroke_width="1.5",
            )
            for d, low, high in intervals.get(clone, [])
        ]
        parts.append(
            _element("g", _title(label), line, *bars, *markers, class_="clone", data_clone=clone)
        )
        symbol = _element(
            "line",
            x1=_num(_LEGEND_LEFT),
            x2=_num(_LEGEND_LEFT + 22),
            y1=_num(row_y),
            y2=_num(row_y),
            stroke=colour,
            stroke_width="2.5",
        )
        _legend_row(parts, row_y, symbol, label)
        row_y += _LEGEND_ROW
    _date_ticks(parts, axis, draws, bottom)
    return _svg(parts, "clone-plot", "clone-title", max(bottom + _X_LABEL_SPACE, row_y + 10))


# ----------------------------------------------------------------------------- heat map


def _heat_colour(vaf: float) -> tuple[str, str]:
    """Fill and text colour of a detected cell: light to dark blue with log10 VAF."""
    position = (math.log10(max(vaf, 1e-9)) - _HEAT_LOW_DECADE) / (
        _HEAT_HIGH_DECADE - _HEAT_LOW_DECADE
    )
    position = min(max(position, 0.0), 1.0)
    light, dark = (0xC6, 0xDB, 0xEF), (0x08, 0x30, 0x6B)
    rgb = [round(lo + (hi - lo) * position) for lo, hi in zip(light, dark, strict=True)]
    fill = "#" + "".join(f"{channel:02x}" for channel in rgb)
    return fill, "#ffffff" if position > 0.45 else "#0b1f33"


def _heatmap_svg(
    draws: Sequence[_Draw],
    alterations: Sequence[_Alteration],
    grid: Mapping[tuple[str, str], _Cell],
) -> Markup:
    """Alteration x draw grid: detected cells shaded and labelled by VAF, others by status."""
    cell_width = min(_HEAT_MAX_CELL_WIDTH, (_WIDTH - _HEAT_LABEL_WIDTH - 10) / max(len(draws), 1))
    parts = [_element("title", _text("Alterations by draw"), id="heatmap-title")]
    for column, draw in enumerate(draws):
        x = _HEAT_LABEL_WIDTH + (column + 0.5) * cell_width
        parts.append(
            _element(
                "text",
                _text(draw.timepoint or draw.sample),
                x=_num(x),
                y=_num(_HEAT_HEADER - 22),
                text_anchor="middle",
                font_size="12",
                font_weight="bold",
            )
        )
        parts.append(
            _element(
                "text",
                _text(draw.date.isoformat()),
                x=_num(x),
                y=_num(_HEAT_HEADER - 8),
                text_anchor="middle",
                font_size="10",
                fill="#5f6368",
            )
        )
    for row, alteration in enumerate(alterations):
        y = _HEAT_HEADER + row * _HEAT_CELL_HEIGHT
        parts.append(
            _element(
                "text",
                _text(alteration.label),
                x=_num(_HEAT_LABEL_WIDTH - 8),
                y=_num(y + _HEAT_CELL_HEIGHT / 2 + 4),
                text_anchor="end",
                font_size="12",
            )
        )
        for column, draw in enumerate(draws):
            cell = grid.get((alteration.key, draw.sample))
            x = _HEAT_LABEL_WIDTH + column * cell_width
            status = cell.status if cell else None
            if status == "detected":
                if cell.vaf is not None:
                    fill, ink = _heat_colour(float(cell.vaf))
                    text = format_percent(cell.vaf)
                else:
                    fill, ink = "#08306b", "#ffffff"
                    text = f"CN {cell.copy_number:.1f}" if cell.copy_number is not None else "det."
            else:
                fill, text = _HEAT_EMPTY.get(status, _HEAT_EMPTY[None])
                ink = "#5f6368"
            hover = f"{alteration.label} — {draw.sample} ({draw.date.isoformat()}): " + (
                _label(STATUS_LABELS, status) if status else "no record"
            )
            if cell and cell.vaf is not None:
                hover += f", VAF {format_percent(cell.vaf)}"
            if cell and (cell.alt_reads is not None or cell.depth is not None):
                hover += f", {_reads_text(cell)} reads"
            if cell and cell.lod95 is not None and status != "detected":
                hover += f", LoD95 {format_percent(cell.lod95)}"
            parts.append(
                _element(
                    "g",
                    _title(hover),
                    _element(
                        "rect",
                        x=_num(x + 1),
                        y=_num(y + 1),
                        width=_num(cell_width - 2),
                        height=_num(_HEAT_CELL_HEIGHT - 2),
                        fill=fill,
                        stroke="#c8c8c8",
                    ),
                    _element(
                        "text",
                        _text(text),
                        x=_num(x + cell_width / 2),
                        y=_num(y + _HEAT_CELL_HEIGHT / 2 + 4),
                        text_anchor="middle",
                        font_size="11",
                        fill=ink,
                    ),
                    class_=f"heat-cell heat-{status or 'none'}",
                    data_key=alteration.key,
                    data_sample=draw.sample,
                )
            )
    height = _HEAT_HEADER + len(alterations) * _HEAT_CELL_HEIGHT + 8
    return _svg(parts, "heatmap", "heatmap-title", height)
