"""The data of the longitudinal page: draws, alterations, cells, treatments, as the page shows them.

Shaped from the patient's per-draw report dicts (workflow/schemas/report.schema.yaml) and treatment
periods; no layout and no drawing (report/longitudinal_layout.py, report/longitudinal_svg.py).
It decides nothing about biology: statuses, trends and clones come from the reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ctdna_resistance.report.html import (
    STATUS_LABELS,
    TREND_LABELS,
    _label,
    _therapy_text,
    format_count,
    format_p_value,
)
from ctdna_resistance.report.svg import format_percent

CLONES_UNAVAILABLE = "clone analysis not available for this patient"


@dataclass(frozen=True)
class DrawView:
    sample: str
    timepoint: str
    date: dt.date
    days_since_baseline: int | None
    tumor_fraction: float | None
    tumor_fraction_method: str
    status: str
    headline: str
    therapy: str
    platforms: tuple[str, ...] = ("ngs",)  # how the draw was measured (report `platforms`)


@dataclass(frozen=True)
class CellView:
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
    platform: str | None = None  # ngs, ddpcr, beaming: what measured this point


@dataclass(frozen=True)
class AlterationRow:
    key: str
    gene: str
    alteration: str

    @property
    def label(self) -> str:
        return f"{self.gene} {self.alteration}".strip()


@dataclass(frozen=True)
class TreatmentPeriod:
    agent: str
    start: dt.date
    end: dt.date | None
    line: str
    anti_egfr: bool


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


def treatment_period(entry: Mapping) -> TreatmentPeriod:
    end = entry.get("end_date")
    return TreatmentPeriod(
        agent=str(entry.get("agent", "")),
        start=_as_date(entry["start_date"]),
        end=None if end in (None, "") else _as_date(end),
        line="" if entry.get("line") is None else str(entry.get("line")),
        anti_egfr=bool(entry.get("anti_egfr")),
    )


def draw_views(reports: Sequence[Mapping]) -> list[DrawView]:
    draws = []
    for report in reports:
        tumor_fraction = report.get("tumor_fraction") or {}
        resistance = report.get("resistance") or {}
        draws.append(
            DrawView(
                sample=str(report.get("sample", "")),
                timepoint=str(report.get("timepoint", "")),
                date=_as_date(report["collection_date"]),
                days_since_baseline=report.get("days_since_baseline"),
                tumor_fraction=tumor_fraction.get("value"),
                tumor_fraction_method=str(tumor_fraction.get("method", "")),
                status=str(resistance.get("status", "")),
                headline=str(resistance.get("headline", "")),
                therapy=_therapy_text(report.get("anti_egfr") or {}),
                platforms=tuple(report.get("platforms") or ("ngs",)),
            )
        )
    return draws


def alteration_rows(reports: Sequence[Mapping]) -> list[AlterationRow]:
    """Every alteration of the patient: the last report's history order, then any other."""
    seen: dict[str, AlterationRow] = {}
    last_history = reports[-1].get("history", []) if reports else []
    for entry in [
        *last_history,
        *(a for r in reports for a in [*r.get("alterations", []), *r.get("not_detected", [])]),
    ]:
        key = str(entry.get("key", ""))
        if key and key not in seen:
            seen[key] = AlterationRow(
                key, str(entry.get("gene", "")), str(entry.get("alteration", ""))
            )
    return list(seen.values())


def cell_grid(reports: Sequence[Mapping]) -> dict[tuple[str, str], CellView]:
    """(alteration key, sample) -> what that draw's report says about it."""
    grid: dict[tuple[str, str], CellView] = {}
    # History points first (they carry status, VAF and LoD95 of every draw), then each draw's own
    # alteration entries, which add reads, trend and clone, override.
    for report in reports:
        for entry in report.get("history", []):
            for point in entry.get("points", []):
                grid[(str(entry.get("key")), str(point.get("sample")))] = CellView(
                    status=point.get("status"),
                    vaf=point.get("vaf"),
                    lod95=point.get("lod95"),
                    platform=point.get("platform"),
                )
    for report in reports:
        sample = str(report.get("sample"))
        for entry in [*report.get("alterations", []), *report.get("not_detected", [])]:
            grid[(str(entry.get("key")), sample)] = CellView(
                status=entry.get("status"),
                vaf=entry.get("vaf"),
                alt_reads=entry.get("alt_reads"),
                depth=entry.get("depth"),
                lod95=entry.get("lod95"),
                copy_number=entry.get("copy_number"),
                trend=entry.get("trend"),
                p_value=entry.get("p_value"),
                clone=entry.get("clone"),
                platform=entry.get("platform"),
            )
    return grid


# ----------------------------------------------------------------------------- view model


def reads_text(cell: CellView) -> str:
    if cell.alt_reads is None and cell.depth is None:
        return ""
    return f"{format_count(cell.alt_reads)} / {format_count(cell.depth)}"


def value_cell(alteration: AlterationRow, draw: DrawView, cell: CellView | None) -> dict:
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
            "platform": cell_platform(draw, None),
        }
    return {
        "key": alteration.key,
        "sample": draw.sample,
        "status": cell.status or "",
        "status_label": _label(STATUS_LABELS, cell.status),
        "vaf": format_percent(cell.vaf) if cell.vaf is not None else "",
        "reads": reads_text(cell),
        "lod95": format_percent(cell.lod95) if cell.lod95 is not None else "",
        "trend": _label(TREND_LABELS, cell.trend) if cell.trend else "",
        "p_value": format_p_value(cell.p_value),
        "copy_number": "" if cell.copy_number is None else f"CN {cell.copy_number:.1f}",
        "platform": cell_platform(draw, cell),
    }


def cell_platform(draw: DrawView, cell: CellView | None) -> str:
    """The platform of one point: its own, else the draw's (one platform) or ''."""
    if cell is not None and cell.platform:
        return cell.platform
    return draw.platforms[0] if len(draw.platforms) == 1 else ""


# ----------------------------------------------------------------------------- clones


def decay_rows(reports: Sequence[Mapping]) -> list[dict]:
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


def clone_prevalence(
    reports: Sequence[Mapping], draws: Sequence[DrawView]
) -> dict[str, list[tuple[DrawView, float, float, float]]] | None:
    """Each clone's cellular prevalence and 95% interval per draw, from the reports' `clones`
    (the clone model's own estimates); None when any draw lacks them (tumour fraction unknown)."""
    by_sample = {r.get("sample"): r for r in reports}
    series: dict[str, list[tuple[DrawView, float, float, float]]] = {}
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


def point_placement(cell: CellView | None) -> tuple[str, float | None]:
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


def point_hover(
    label: str, draw: DrawView, cell: CellView, placement: str, *, platform: str = ""
) -> str:
    """What a point's hover says: the alteration, the draw (with the platform that measured the
    point, when given), and the VAF, LoD95 or status."""
    where = f"{draw.sample} ({draw.date.isoformat()}{', ' + platform if platform else ''})"
    if placement == "detected":
        what = f"VAF {format_percent(cell.vaf)}, detected"
        if cell.alt_reads is not None:
            unit = "copies" if cell.platform in ("ddpcr", "beaming") else "reads"
            what += f", {reads_text(cell)} {unit}"
    elif placement == "lod":
        what = f"not detected, LoD95 {format_percent(cell.lod95)}"
    elif placement == "floor":
        what = "not detected, LoD95 unknown"
    else:
        what = _label(STATUS_LABELS, cell.status)
    return f"{label} — {where}: {what}"
