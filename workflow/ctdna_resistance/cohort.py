"""Cohort summary (SPEC 6): one row per patient, and mechanism frequencies."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from jinja2 import Environment

from ctdna_resistance import __version__
from ctdna_resistance.samplesheet import Cohort
from ctdna_resistance.tables import write_tsv

SUMMARY_COLUMNS = [
    "patient",
    "n_draws",
    "first_draw",
    "last_draw",
    "anti_egfr_start",
    "first_emergence_date",
    "first_emergence_sample",
    "days_from_anti_egfr_start",
    "mechanisms",
    "alterations_ever",
    "current_status",
    "current_alterations",
]

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ctdna-resistance cohort summary</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f0f0f0}
.ruo{background:#fff3cd;border:1px solid #e0c36a;padding:8px;margin:1em 0}
.emerging{color:#b00020;font-weight:bold}</style></head><body>
<h1>Cohort summary</h1>
<p class="ruo"><strong>Research use only.</strong> Not for clinical decision making.</p>
<p>{{ rows|length }} patients, {{ n_draws }} plasma draws.</p>
<h2>Patients</h2>
<table><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for c in columns %}<td
{%- if c == 'current_status' and r[c] == 'emerging' %} class="emerging"{% endif %}>
{{- r[c] if r[c] is not none else '' }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>Mechanisms (patients with the mechanism detected at any draw)</h2>
<table><tr><th>mechanism</th><th>patients</th></tr>
{% for m, n in mechanisms %}<tr><td>{{ m }}</td><td>{{ n }}</td></tr>{% endfor %}</table>
<p><small>ctdna-resistance {{ version }}</small></p>
</body></html>
"""


def summarise_patient(patient: str, reports: list[dict], cohort: Cohort) -> dict:
    """One summary row from a patient's per-draw reports (date order)."""
    anti = [t.start_date for t in cohort.treatments_of(patient) if t.is_anti_egfr()]
    start = min(anti) if anti else None
    emerging = next((r for r in reports if r["resistance"]["status"] == "emerging"), None)
    mechanisms = sorted({m for r in reports for m in r["resistance"]["mechanisms"]})
    ever = sorted({f"{a['gene']} {a['alteration']}" for r in reports for a in r["alterations"]})
    last = reports[-1]
    emergence_date = dt.date.fromisoformat(emerging["collection_date"]) if emerging else None
    return {
        "patient": patient,
        "n_draws": len(reports),
        "first_draw": reports[0]["collection_date"],
        "last_draw": last["collection_date"],
        "anti_egfr_start": start.isoformat() if start else "",
        "first_emergence_date": emergence_date.isoformat() if emergence_date else "",
        "first_emergence_sample": emerging["sample"] if emerging else "",
        "days_from_anti_egfr_start": (
            (emergence_date - start).days if emergence_date and start else ""
        ),
        "mechanisms": ";".join(mechanisms),
        "alterations_ever": ";".join(ever),
        "current_status": last["resistance"]["status"],
        "current_alterations": ";".join(
            f"{a['gene']} {a['alteration']}" for a in last["alterations"]
        ),
    }


def write_cohort_summary(reports: dict[str, list[dict]], cohort: Cohort, tsv_path, html_path):
    rows = [summarise_patient(p, reports[p], cohort) for p in sorted(reports)]
    write_tsv(tsv_path, SUMMARY_COLUMNS, rows)
    counts = Counter(m for r in rows for m in r["mechanisms"].split(";") if m)
    page = (
        Environment(autoescape=True)
        .from_string(_PAGE)
        .render(
            rows=rows,
            columns=SUMMARY_COLUMNS,
            n_draws=sum(r["n_draws"] for r in rows),
            mechanisms=sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])),
            version=__version__,
        )
    )
    with open(html_path, "w") as handle:
        handle.write(page)
