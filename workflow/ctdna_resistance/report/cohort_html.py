"""Cohort summary HTML: one row per patient, mechanism frequencies, time to emergence.

Input is the cohort summary rows (`ctdna_resistance.cohort.SUMMARY_COLUMNS`) and every patient's
per-draw report dicts. Like the per-draw page it decides nothing: it lays out what the rows and
reports say. Plots are inline SVG built with the helpers of `svg.py`; the page goes through the
per-draw report's autoescaping Jinja environment. No script, no external resource, no timestamp.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from markupsafe import Markup

from ctdna_resistance import __version__
from ctdna_resistance.report.html import (
    MECHANISM_LABELS,
    RESISTANCE_STATUS_LABELS,
    _environment,
    _label,
)
from ctdna_resistance.report.svg import _element, _num, _text, _title, format_percent, svg_document

COHORT_TEMPLATE = "cohort.html.j2"
EMERGENCE_COLOUR = "#B00020"
FOLLOW_UP_COLOUR = "#9AA0A6"
BAR_COLOUR = "#0072B2"

_WIDTH = 900.0
_LABEL_WIDTH = 230.0
_RIGHT = 780.0
_ROW = 24.0
_TOP = 34.0


# The page lists this many patients (the first by ID); the counts, the mechanism plot and
# summary.tsv cover every patient. A table row per patient of a 100,000-patient cohort would
# make a page of some 200 MB that no browser opens.
MAX_LISTED_PATIENTS = 1000


def render_cohort(
    rows: list[dict],
    reports_by_patient: dict[str, list[dict]],
    treatments_skipped: dict[str, int] | None = None,
) -> str:
    """Render the cohort summary as a complete, self-contained HTML5 document.

    ``treatments_skipped``: timeline rows of patients absent from the sheet, by patient.
    """
    page = CohortPage()
    for row in sorted(rows, key=lambda row: str(row.get("patient", ""))):
        page.add(row, reports_by_patient.get(str(row.get("patient")), []))
    return page.render(treatments_skipped)


class CohortPage:
    """The cohort page built one patient at a time: ``add`` each patient's summary row and
    reports in patient order, then ``render``. Holds counts and the listed patients' rows only."""

    def __init__(self) -> None:
        self.patients: list[dict] = []
        self.n_patients = 0
        self.n_draws = 0
        self.n_emerging = 0
        self.n_with_emergence = 0
        self.mechanisms: Counter = Counter()

    def add(self, row: Mapping, reports: Sequence[Mapping]) -> None:
        patient = _patient_view(row, reports)
        self.n_patients += 1
        self.n_draws += _int(row.get("n_draws")) or 0
        self.n_emerging += patient["status"] == "emerging"
        self.n_with_emergence += bool(patient["first_emergence_date"])
        self.mechanisms.update({_label(MECHANISM_LABELS, m) for m in _split(row.get("mechanisms"))})
        if len(self.patients) < MAX_LISTED_PATIENTS:
            self.patients.append(patient)

    def render(
        self,
        treatments_skipped: dict[str, int] | None = None,
        clinical_skipped: dict[str, int] | None = None,
    ) -> str:
        """The page; ``*_skipped``: timeline / clinical-sheet rows of patients not in the sheet."""
        patients, n_patients = self.patients, self.n_patients
        # patients with each mechanism at any draw, most frequent first
        mechanisms = sorted(self.mechanisms.items(), key=lambda item: (-item[1], item[0]))
        view = {
            "n_patients": n_patients,
            "n_draws": self.n_draws,
            "n_emerging": self.n_emerging,
            "n_with_emergence": self.n_with_emergence,
            "patients": patients,
            "n_unlisted": n_patients - len(patients),
            "mechanisms": [
                {"label": label, "count": count, "share": _share(count, n_patients)}
                for label, count in mechanisms
            ],
            "mechanism_plot": _mechanism_svg(mechanisms, n_patients) if mechanisms else None,
            "emergence_plot": _emergence_svg(patients)
            if any(
                p["days_to_emergence"] is not None or p["follow_up_days"] is not None
                for p in patients
            )
            else None,
            "version": __version__,
            "treatments_skipped": dict(sorted((treatments_skipped or {}).items())),
            "clinical_skipped": dict(sorted((clinical_skipped or {}).items())),
        }
        return _environment().get_template(COHORT_TEMPLATE).render(view=view)


def _int(value: object) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.0f}%" if total else "—"


def _split(value: object) -> list[str]:
    return [part for part in str(value or "").split(";") if part]


def _polyclonal(reports: Sequence[Mapping]) -> str:
    values = [(r.get("resistance") or {}).get("polyclonal") for r in reports]
    if any(value is True for value in values):
        return "yes"
    if any(value is False for value in values):
        return "no"
    return "not assessed"


def _patient_view(row: Mapping, reports: Sequence[Mapping]) -> dict:
    """One table row, plus the day counts the time-to-emergence plot needs."""
    patient = str(row.get("patient", ""))
    start = row.get("anti_egfr_start") or ""
    last_draw = row.get("last_draw") or ""
    follow_up = (
        (dt.date.fromisoformat(str(last_draw)) - dt.date.fromisoformat(str(start))).days
        if start and last_draw
        else None
    )
    return {
        "patient": patient,
        "href": f"../patients/{quote(patient)}/longitudinal.html",
        "n_draws": str(row.get("n_draws", "")),
        # shown only when a targeted assay measured some draws (issue 17)
        "platforms": _platforms_text(row.get("draws_by_platform")),
        "first_draw": str(row.get("first_draw") or ""),
        "last_draw": str(last_draw),
        "anti_egfr_start": str(start),
        "first_emergence_date": str(row.get("first_emergence_date") or ""),
        "first_emergence_sample": str(row.get("first_emergence_sample") or ""),
        "days_to_emergence": _int(row.get("days_from_anti_egfr_start")),
        "follow_up_days": follow_up,
        "mechanisms": [_label(MECHANISM_LABELS, m) for m in _split(row.get("mechanisms"))],
        "alterations_ever": _split(row.get("alterations_ever")),
        "current_alterations": _split(row.get("current_alterations")),
        "polyclonal": _polyclonal(reports),
        "ctdna_level": _ctdna_level_text(row),
        "molecular_response": str(row.get("current_molecular_response") or "").replace("_", " "),
        "status": str(row.get("current_status", "")),
        "status_label": _label(RESISTANCE_STATUS_LABELS, row.get("current_status")),
    }


def _platforms_text(value) -> str:
    """'ngs:2;ddpcr:2' -> 'NGS 2, ddPCR 2'; '' when every draw was sequenced."""
    parts = [part.split(":") for part in _split(value)]
    if all(name == "ngs" for name, _ in parts):
        return ""
    labels = {"ngs": "NGS", "ddpcr": "ddPCR", "beaming": "BEAMing"}
    return ", ".join(f"{labels.get(name, name)} {count}" for name, count in parts)


def _ctdna_level_text(row: Mapping) -> str:
    """The latest draw's pooled ctDNA level as the summary table shows it."""
    status = str(row.get("current_ctdna_status") or "")
    if status == "detected" and row.get("current_ctdna_level") not in (None, ""):
        low, high = row.get("current_ctdna_low"), row.get("current_ctdna_high")
        interval = (
            f" ({format_percent(float(low))}-{format_percent(float(high))})"
            if low not in (None, "") and high not in (None, "")
            else ""
        )
        return f"{format_percent(float(row['current_ctdna_level']))}{interval}"
    return {"not_detected": "not detected", "not_assessed": "not assessed"}.get(status, "—")


def _svg(parts: list[str], css_class: str, title_id: str, height: float) -> Markup:
    return svg_document(parts, css_class, title_id, _WIDTH, height)


def _mechanism_svg(mechanisms: Sequence[tuple[str, int]], n_patients: int) -> Markup:
    """Horizontal bars: share of patients with each mechanism detected at any draw."""
    parts = [_element("title", _text("Resistance mechanisms in the cohort"), id="mechanism-title")]
    scale = (_RIGHT - _LABEL_WIDTH) / max(n_patients, 1)
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = _LABEL_WIDTH + fraction * n_patients * scale
        parts.append(
            _element(
                "line",
                class_="grid",
                x1=_num(x),
                x2=_num(x),
                y1=_num(_TOP - 6),
                y2=_num(_TOP + len(mechanisms) * _ROW),
                stroke="#e3e3e3",
            )
        )
        parts.append(
            _element(
                "text",
                _text(f"{fraction * 100:.0f}%"),
                x=_num(x),
                y=_num(_TOP - 12),
                text_anchor="middle",
                font_size="11",
            )
        )
    for index, (label, count) in enumerate(mechanisms):
        y = _TOP + index * _ROW
        width = count * scale
        parts.append(
            _element(
                "text",
                _text(label),
                x=_num(_LABEL_WIDTH - 8),
                y=_num(y + _ROW / 2 + 4),
                text_anchor="end",
                font_size="12",
            )
        )
        parts.append(
            _element(
                "rect",
                _title(f"{label}: {count} of {n_patients} patients"),
                class_="bar",
                x=_num(_LABEL_WIDTH),
                y=_num(y + 4),
                width=_num(max(width, 1.0)),
                height=_num(_ROW - 8),
                fill=BAR_COLOUR,
                data_count=count,
            )
        )
        parts.append(
            _element(
                "text",
                _text(f"{count} of {n_patients} ({_share(count, n_patients)})"),
                x=_num(_LABEL_WIDTH + width + 6),
                y=_num(y + _ROW / 2 + 4),
                font_size="11",
            )
        )
    return _svg(parts, "mechanism-plot", "mechanism-title", _TOP + len(mechanisms) * _ROW + 12)


def _emergence_svg(patients: Sequence[Mapping]) -> Markup:
    """One lane per patient: follow-up from anti-EGFR start (grey) and first emergence (red dot).

    Patients with no emergence end in a hollow marker at their last draw (censored); patients
    without an anti-EGFR start date cannot be placed and are listed under the plot instead.
    """
    placed = [
        p for p in patients if p["days_to_emergence"] is not None or p["follow_up_days"] is not None
    ]
    days = [0] + [
        d for p in placed for d in (p["days_to_emergence"], p["follow_up_days"]) if d is not None
    ]
    low, high = min(days), max(days)
    step = _tick_step(high - low)
    low = math.floor(low / step) * step
    high = max(math.ceil(high / step) * step, low + step)

    def x_of(day: int) -> float:
        return _LABEL_WIDTH + (day - low) / (high - low) * (_RIGHT - _LABEL_WIDTH)

    bottom = _TOP + len(placed) * _ROW
    parts = [
        _element(
            "title", _text("Days from anti-EGFR start to first emergence"), id="emergence-title"
        )
    ]
    for day in range(int(low), int(high) + 1, step):
        x = x_of(day)
        parts.append(
            _element(
                "line",
                class_="grid",
                x1=_num(x),
                x2=_num(x),
                y1=_num(_TOP - 6),
                y2=_num(bottom),
                stroke="#e3e3e3",
            )
        )
        parts.append(
            _element(
                "text",
                _text(str(day)),
                x=_num(x),
                y=_num(bottom + 16),
                text_anchor="middle",
                font_size="11",
            )
        )
    parts.append(
        _element(
            "text",
            "Days from anti-EGFR start",
            x=_num((_LABEL_WIDTH + _RIGHT) / 2),
            y=_num(bottom + 36),
            text_anchor="middle",
            font_size="12",
        )
    )
    for index, patient in enumerate(placed):
        y = _TOP + index * _ROW + _ROW / 2
        parts.append(
            _element(
                "text",
                _text(patient["patient"]),
                x=_num(_LABEL_WIDTH - 8),
                y=_num(y + 4),
                text_anchor="end",
                font_size="12",
            )
        )
        children = [_title(_emergence_text(patient))]
        if patient["follow_up_days"] is not None:
            children.append(
                _element(
                    "line",
                    class_="follow-up",
                    x1=_num(x_of(0)),
                    x2=_num(x_of(patient["follow_up_days"])),
                    y1=_num(y),
                    y2=_num(y),
                    stroke=FOLLOW_UP_COLOUR,
                    stroke_width="4",
                )
            )
        if patient["days_to_emergence"] is not None:
            children.append(
                _element(
                    "circle",
                    class_="marker emergence",
                    cx=_num(x_of(patient["days_to_emergence"])),
                    cy=_num(y),
                    r="6",
                    fill=EMERGENCE_COLOUR,
                )
            )
        elif patient["follow_up_days"] is not None:
            children.append(
                _element(
                    "circle",
                    class_="marker censored",
                    cx=_num(x_of(patient["follow_up_days"])),
                    cy=_num(y),
                    r="5",
                    fill="#ffffff",
                    stroke="#555555",
                    stroke_width="1.5",
                )
            )
        parts.append(
            _element("g", *children, class_="patient-lane", data_patient=patient["patient"])
        )
    return _svg(parts, "emergence-plot", "emergence-title", bottom + 48)


def _emergence_text(patient: Mapping) -> str:
    if patient["days_to_emergence"] is not None:
        return (
            f"{patient['patient']}: first emergence on day {patient['days_to_emergence']} "
            f"({patient['first_emergence_sample']}, {patient['first_emergence_date']})"
        )
    return f"{patient['patient']}: no emergence by day {patient['follow_up_days']} (last draw)"


def _tick_step(span: int) -> int:
    """A round tick spacing giving about 5 to 10 ticks."""
    for step in (7, 14, 30, 60, 90, 180, 365, 730):
        if span / step <= 10:
            return step
    return 1825
