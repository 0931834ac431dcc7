"""Cohort summary rows (SPEC 6): one per patient; the page is report/cohort_html.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ctdna_resistance.samplesheet import DEFAULT_ANTI_EGFR, Cohort, Treatment

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
    "current_ctdna_status",
    "current_ctdna_level",
    "current_ctdna_low",
    "current_ctdna_high",
    "current_molecular_response",
    "first_molecular_response_sample",
    "draws_by_platform",
]


def summarise_patient(
    patient: str,
    reports: list[dict],
    cohort: Cohort,
    anti_egfr_agents: Sequence[str] = DEFAULT_ANTI_EGFR,
) -> dict:
    """One summary row from a patient's per-draw reports (date order).

    ``anti_egfr_agents``: the config's list, as the per-draw reports use it, so a treatment
    named e.g. "Erbitux" starts the clock here too.
    """
    return summary_row(patient, reports, cohort.treatments_of(patient), anti_egfr_agents)


def summary_row(
    patient: str,
    reports: list[dict],
    treatments: Sequence[Treatment],
    anti_egfr_agents: Sequence[str] = DEFAULT_ANTI_EGFR,
) -> dict:
    """`summarise_patient` given the patient's own treatments (a cohort step groups them once)."""
    anti = [t.start_date for t in treatments if t.is_anti_egfr(anti_egfr_agents)]
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
        **_level_summary(reports),
        "draws_by_platform": _draws_by_platform(reports),
    }


def _draws_by_platform(reports: list[dict]) -> str:
    """'ngs:2;ddpcr:2': draws measured by each platform (a draw with both counts for each)."""
    counts: dict[str, int] = {}
    for report in reports:
        for platform in report.get("platforms") or ["ngs"]:
            counts[platform] = counts.get(platform, 0) + 1
    order = {"ngs": 0, "ddpcr": 1, "beaming": 2}
    return ";".join(f"{p}:{counts[p]}" for p in sorted(counts, key=lambda p: (order.get(p, 9), p)))


def _level_summary(reports: list[dict]) -> dict:
    """The latest draw's pooled ctDNA level and response, and the first draw with a response."""
    level = reports[-1].get("ctdna_level") or {}
    detected = level.get("status") == "detected"
    responded = next(
        (r["sample"] for r in reports
         if (r.get("ctdna_level") or {}).get("response") == "molecular_response"),
        "",
    )  # fmt: skip
    return {
        "current_ctdna_status": level.get("status", "not_assessed"),
        "current_ctdna_level": level.get("estimate") if detected else "",
        "current_ctdna_low": level.get("low") if detected else "",
        "current_ctdna_high": level.get("high") if detected else "",
        "current_molecular_response": level.get("response") or "",
        "first_molecular_response_sample": responded,
    }
