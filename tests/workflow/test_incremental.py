"""Re-running after one patient gets a new draw runs only that patient's job and the cohort."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[2]


def snakemake(cohort: Path, out: Path, *extra):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--snakefile", str(REPO / "Snakefile"),
         "--config", f"samples={cohort / 'samples.tsv'}",
         f"treatments={cohort / 'treatments.tsv'}", f"outdir={out}", *extra],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip


def planned_jobs(dry_run_stdout: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run: rule -> number of jobs (empty when nothing to do)."""
    if "Nothing to be done" in dry_run_stdout:
        return {}
    table = dry_run_stdout.split("Job stats:", 1)[1]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)$", table, re.M) if m[0] != "total"}


def test_a_new_draw_reruns_only_its_patient_and_the_cohort(tmp_path):
    cohort = tmp_path / "cohort"
    shutil.copytree(REPO / "test_data", cohort)
    sheet = cohort / "samples.tsv"
    rows = sheet.read_text().splitlines(keepends=True)
    last_p001 = max(i for i, row in enumerate(rows) if row.startswith("P001\t"))
    sheet.write_text("".join(rows[:last_p001] + rows[last_p001 + 1 :]))
    out = tmp_path / "out"
    assert snakemake(cohort, out).returncode == 0
    untouched = (out / "patients" / "P002" / "timeline.tsv").stat().st_mtime_ns

    assert planned_jobs(snakemake(cohort, out, "-n").stdout) == {}  # up to date
    sheet.write_text("".join(rows))
    plan = planned_jobs(snakemake(cohort, out, "-n").stdout)
    assert plan == {"patient": 1, "cohort_summary": 1, "all": 1}
    assert snakemake(cohort, out).returncode == 0
    assert (out / "patients" / "P002" / "timeline.tsv").stat().st_mtime_ns == untouched
    new_sample = rows[last_p001].split("\t")[1]
    assert (out / "patients" / "P001" / "reports" / f"{new_sample}.html").is_file()

    # the same rows in a copy of the sheet beside it: nothing to re-run (the sheet's path is
    # neither a param nor in the patient command's text, which Snakemake compares as "code")
    copy = cohort / "samples_copy.tsv"
    shutil.copy(sheet, copy)
    assert planned_jobs(snakemake(cohort, out, f"samples={copy}", "-n").stdout) == {}
    # a changed setting: the settings file is rewritten and every patient re-runs
    setting = tmp_path / "alpha.yaml"
    setting.write_text("detection:\n  alpha: 0.05\n")
    changed = planned_jobs(snakemake(cohort, out, "--configfile", str(setting), "-n").stdout)
    patients = len({row.split("\t")[0] for row in rows[1:] if row.strip()})
    assert changed == {"prepare_panel": 1, "patient": patients, "cohort_summary": 1, "all": 1}


def test_a_draw_file_rewritten_in_place_reruns_only_its_patient(tmp_path):
    """The draws' files are not the patient job's inputs (rerun_fingerprint.py): a file changed
    under the same path, newer or older than the outputs, still re-runs its patient."""
    cohort = tmp_path / "cohort"
    shutil.copytree(REPO / "test_data", cohort)
    out = tmp_path / "out"
    assert snakemake(cohort, out).returncode == 0
    vcf = next(
        cohort / row.split("\t")[3]
        for row in (cohort / "samples.tsv").read_text().splitlines()
        if row.startswith("P002\t") and row.split("\t")[3]
    )
    before = vcf.stat()
    os.utime(vcf, ns=(before.st_atime_ns, before.st_mtime_ns - 10**9))  # an older copy
    plan = snakemake(cohort, out, "-n")
    assert planned_jobs(plan.stdout) == {"patient": 1, "cohort_summary": 1, "all": 1}
    assert "wildcards: patient=P002" in plan.stdout
    assert "Params have changed since last execution" in plan.stdout
    os.utime(vcf, ns=(before.st_atime_ns, before.st_mtime_ns))  # as it was: nothing to do
    assert planned_jobs(snakemake(cohort, out, "-n").stdout) == {}

    vcf.unlink()  # gone after the sheet was written: the sheet row and file are named
    gone = snakemake(cohort, out, "-n")
    assert gone.returncode != 0
    said = gone.stderr + gone.stdout
    assert "samples.tsv" in said and f"vcf/{vcf.name}' does not exist" in said


def test_a_deleted_patient_output_is_made_again(tmp_path):
    """rule all names the cohort's outputs and a patient's outputs only once one has gone
    missing: Snakemake re-runs a job only for the outputs a target needs."""
    cohort = tmp_path / "cohort"
    shutil.copytree(REPO / "test_data", cohort)
    out = tmp_path / "out"
    assert snakemake(cohort, out).returncode == 0
    for lost in ("timeline.tsv", "samples", "longitudinal.html"):
        target = out / "patients" / "P002" / lost
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        plan = snakemake(cohort, out, "-n")
        assert planned_jobs(plan.stdout) == {"patient": 1, "cohort_summary": 1, "all": 1}, lost
        assert "wildcards: patient=P002" in plan.stdout
        assert snakemake(cohort, out).returncode == 0
        assert target.exists()
    assert planned_jobs(snakemake(cohort, out, "-n").stdout) == {}
