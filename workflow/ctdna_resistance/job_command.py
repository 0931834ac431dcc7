"""The command line of a patient job, as the worker's child or a fresh interpreter runs it.

``python -m ctdna_resistance.job_command patient --settings run/settings.json --samples
sheet.tsv --patient P001 --panel panel.json --log patient.log --draws-dir ... --timeline ...``

Rule ``patient`` runs it through ``worker_client`` (issue 19). The settings are the run's config
as the workflow resolved it (written once per run by rule prepare_panel); the sheet, treatment and
background paths come apart from them, so that pointing the run at an edited copy of the sheet
re-runs only the patients whose rows changed (the rule's params), not every patient, and the
settings do not depend on where the results go.
"""

from __future__ import annotations

import argparse
import json
import sys


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ctdna_resistance.job_command")
    sub = top.add_subparsers(dest="step", required=True)
    p = sub.add_parser("patient", help="one patient's draws: calls, tracking, reports")
    p.add_argument("--settings", required=True, help="the run's settings (JSON)")
    p.add_argument("--samples", required=True, help="the sample sheet")
    p.add_argument("--treatments", default="", help="the treatment timeline ('' for none)")
    p.add_argument("--background", default="", help="the per-site background table, if any")
    p.add_argument("--patient", required=True)
    p.add_argument("--panel", required=True, help="the prepared panel (JSON)")
    p.add_argument("--log", required=True)
    for name in ("draws-dir", "timeline", "clones", "longitudinal", "reports-dir"):
        p.add_argument(f"--{name}", required=True)
    return top


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from ctdna_resistance.scripting import run_logged
    from ctdna_resistance.steps import PatientOutputs, run_patient

    with open(args.settings) as handle:
        config = json.load(handle)
    config["samples"] = args.samples
    config["treatments"] = args.treatments or None
    config["background"] = args.background or None
    outputs = PatientOutputs(
        args.draws_dir, args.timeline, args.reports_dir, args.longitudinal, args.clones
    )
    return run_logged(args.log, run_patient, config, args.patient, outputs, args.panel)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
