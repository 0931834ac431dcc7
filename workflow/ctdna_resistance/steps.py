"""The workflow's steps: read inputs, call the science, write outputs (atomically).

Each step is what one Snakemake rule runs and what one `ctdna-resistance` subcommand runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from ctdna_resistance.calls import call_sample, write_sample_calls
from ctdna_resistance.cohort import write_cohort_summary
from ctdna_resistance.outputs import atomic_outputs
from ctdna_resistance.panel import load_panel
from ctdna_resistance.report.build import build_draw_reports
from ctdna_resistance.report.html import render_draw_report
from ctdna_resistance.samplesheet import DEFAULT_ANTI_EGFR, read_cohort
from ctdna_resistance.schemas import schema_errors
from ctdna_resistance.tracking import DrawData, track_patient, write_timeline


def _dump_json(data, path) -> None:
    with open(path, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")


def run_sample_calls(config: dict, sample_id: str, alterations, filtered, accounting) -> None:
    """SPEC 5.1 for one sample: alterations.tsv, filtered.tsv, accounting.json."""
    cohort = read_cohort(config["samples"], config.get("treatments") or None)
    panel = load_panel(config["panel"], config["genome_build"])
    calls = call_sample(cohort.sample(sample_id), panel, config)
    if not calls.accounting["reconciles"]:
        raise RuntimeError(f"accounting does not reconcile for {sample_id}: {calls.accounting}")
    with atomic_outputs(alterations, filtered, accounting) as tmp:
        write_sample_calls(calls, *tmp)


def run_patient(config: dict, patient: str, sample_dirs: dict[str, str], timeline, reports_dir):
    """Tracking and per-draw reports for one patient, from its samples' call folders."""
    cohort = read_cohort(config["samples"], config.get("treatments") or None)
    panel = load_panel(config["panel"], config["genome_build"])
    draws = []
    for sample in cohort.samples_of(patient):
        folder = Path(sample_dirs[sample.sample])
        draws.append(
            DrawData.read(
                sample,
                folder / "alterations.tsv",
                folder / "filtered.tsv",
                folder / "accounting.json",
            )
        )
    series = track_patient(draws, config)
    agents = config.get("anti_egfr_agents") or DEFAULT_ANTI_EGFR
    reports = build_draw_reports(
        patient, draws, series, panel, cohort.treatments_of(patient), agents
    )
    for report in reports:
        problems = schema_errors(report, "report")
        if problems:
            raise RuntimeError(f"report for {report['sample']} breaks its schema: {problems[0]}")
    with atomic_outputs(timeline, str(reports_dir).rstrip("/") + "/") as (tmp_timeline, tmp_dir):
        write_timeline(tmp_timeline, patient, series, draws[0].sample.collection_date)
        for report in reports:
            _dump_json(report, tmp_dir / f"{report['sample']}.json")
            (tmp_dir / f"{report['sample']}.html").write_text(render_draw_report(report))


def run_cohort(config: dict, report_dirs: dict[str, str], summary_tsv, summary_html) -> None:
    """Cohort summary from every patient's per-draw reports."""
    cohort = read_cohort(config["samples"], config.get("treatments") or None)
    reports = {}
    for patient in cohort.patients:
        folder = Path(report_dirs[patient])
        reports[patient] = [
            json.loads((folder / f"{s.sample}.json").read_text())
            for s in cohort.samples_of(patient)
        ]
    with atomic_outputs(summary_tsv, summary_html) as (tmp_tsv, tmp_html):
        write_cohort_summary(reports, cohort, tmp_tsv, tmp_html)
