"""The command line of the patient and cohort jobs, as a worker's child or a fresh interpreter
runs it.

``python -m ctdna_resistance.job_command patient --settings run/settings.json --samples
sheet.tsv --patient P001 --panel panel.json --log patient.log --draws-dir ... --timeline ...``
``python -m ctdna_resistance.job_command cohort --settings ... --samples ... --patients-dir
results/patients --log ... --tsv ... --html ... --cbioportal ... --multiqc ...``

Rules ``patient`` and ``cohort_summary`` run it through ``worker_client`` (issue 19). The
settings are the run's config as the workflow resolved it (written once per run by rule
prepare_panel); the sheet, treatment, clinical and background paths come apart from them, so that
pointing the run at an edited copy of the sheet re-runs only the patients whose rows changed (the
rule's params), not every patient, and the settings do not depend on where the results go.
"""

from __future__ import annotations

import argparse
import json
import sys


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ctdna_resistance.job_command")
    sub = top.add_subparsers(dest="step", required=True)
    p = sub.add_parser("patient", help="one patient's draws: calls, tracking, reports")
    c = sub.add_parser("cohort", help="the cohort summary, cBioPortal study and MultiQC table")
    for step in (p, c):
        step.add_argument("--settings", required=True, help="the run's settings (JSON)")
        step.add_argument("--samples", required=True, help="the sample sheet")
        step.add_argument("--treatments", default="", help="the treatment timeline ('' for none)")
        step.add_argument("--log", required=True)
    p.add_argument("--background", default="", help="the per-site background table, if any")
    p.add_argument("--patient", required=True)
    p.add_argument("--panel", required=True, help="the prepared panel (JSON)")
    for name in ("draws-dir", "timeline", "clones", "longitudinal", "reports-dir"):
        p.add_argument(f"--{name}", required=True)
    c.add_argument("--clinical", default="", help="the clinical sheet ('' for none)")
    c.add_argument("--patients-dir", required=True, help="where rule patient wrote each patient")
    for name in ("tsv", "html", "cbioportal", "multiqc"):
        c.add_argument(f"--{name}", required=True)
    return top


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from ctdna_resistance.scripting import run_logged
    from ctdna_resistance.steps import PatientOutputs, run_cohort, run_patient

    with open(args.settings) as handle:
        config = json.load(handle)
    config["samples"] = args.samples
    config["treatments"] = args.treatments or None
    if args.step == "cohort":
        config["clinical"] = args.clinical or None
        return run_logged(
            args.log, run_cohort, config, args.patients_dir, args.tsv, args.html,
            args.cbioportal, args.multiqc,
        )  # fmt: skip
    config["background"] = args.background or None
    outputs = PatientOutputs(
        args.draws_dir, args.timeline, args.reports_dir, args.longitudinal, args.clones
    )
    return run_logged(args.log, run_patient, config, args.patient, outputs, args.panel)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
