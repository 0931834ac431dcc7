"""A user's first run (issue 18): their own sheet, from their own folder, with no other key.

`snakemake --cores 2 --config samples=my.tsv outdir=out genome_build=GRCh38` in a folder outside
the repository, with a sheet that is a copy of one demo patient's rows and files: the run uses the
user's files only (none of the demo's treatments, normals or reference), and a treatment timeline
that covers more patients than the sheet is read with the others skipped and counted.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "test_data"
FILE_COLUMNS = ("vcf", "normal_vcf", "cnv", "sv", "bam", "coverage")


def user_folder(folder: Path, patient: str = "P001") -> Path:
    """A user's folder holding my.tsv (one demo patient's rows) and that patient's files."""
    with open(DEMO / "samples.tsv", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        columns, rows = reader.fieldnames, [r for r in reader if r["patient"] == patient]
    for row in rows:
        for column in FILE_COLUMNS:
            if row.get(column):
                source = DEMO / row[column]
                target = folder / "data" / Path(row[column]).name
                target.parent.mkdir(parents=True, exist_ok=True)
                for companion in source.parent.glob(source.name + "*"):  # the file and its index
                    shutil.copy(companion, target.parent / companion.name)
                row[column] = f"data/{target.name}"
    with open(folder / "my.tsv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return folder


def snakemake(folder: Path, *config: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--snakefile", str(REPO / "Snakefile"),
         "--config", *config],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def user_run(tmp_path_factory):
    folder = user_folder(tmp_path_factory.mktemp("user"))
    done = snakemake(folder, "samples=my.tsv", "outdir=out", "genome_build=GRCh38")
    assert done.returncode == 0, done.stderr[-3000:]
    return folder, done


def test_a_users_sheet_alone_runs_from_their_folder(user_run):
    folder, _done = user_run
    out = folder / "out"
    assert sorted(p.name for p in (out / "patients").iterdir()) == ["P001"]
    summary = (out / "cohort" / "summary.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in summary] == ["patient", "P001"]
    # none of the demo's treatments, normals or reference came with the defaults
    assert not (out / "background").exists()
    for accounting in (out / "patients").glob("*/samples/*/accounting.json"):
        data = json.loads(accounting.read_text())
        assert data["background"] is None and data["background_model"] == "scalar"
        assert data["reconciles"]
    report = json.loads(next((out / "patients" / "P001" / "reports").glob("*.json")).read_text())
    assert "panitumumab" not in json.dumps(report)  # the demo timeline gives P001 panitumumab
    assert not (REPO / "out").exists()  # the outputs are the user's, not the repository's


def test_a_timeline_with_more_patients_than_the_sheet_is_read(user_run, tmp_path):
    folder = user_folder(tmp_path)
    shutil.copy(DEMO / "treatments.tsv", folder / "treatments.tsv")  # P001-P00n
    done = snakemake(
        folder, "samples=my.tsv", "treatments=treatments.tsv", "outdir=out", "genome_build=GRCh38"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    patients = {row.split("\t")[0] for row in (DEMO / "treatments.tsv").read_text().splitlines()}
    others = sorted(patients - {"patient", "P001"})
    assert f"patient(s) not in the sample sheet: {', '.join(others)}" in done.stderr
    html = (folder / "out" / "cohort" / "summary.html").read_text()
    assert f"of {len(others)} patient(s) not in the sample sheet skipped" in html
    report = json.loads(
        next((folder / "out" / "patients" / "P001" / "reports").glob("*.json")).read_text()
    )
    assert "panitumumab" in json.dumps(report)


def test_a_misspelt_timeline_patient_is_refused(tmp_path):
    folder = user_folder(tmp_path)
    (folder / "treatments.tsv").write_text(
        "patient\tagent\tstart_date\np-001\tcetuximab\t2023-01-16\n"
    )
    done = snakemake(folder, "samples=my.tsv", "treatments=treatments.tsv", "outdir=out")
    assert done.returncode != 0
    assert "patient 'p-001' is not in the sample sheet; did you mean 'P001'?" in done.stderr
    assert not (folder / "out" / "patients").exists()


def test_a_bad_clinical_sheet_is_refused_before_any_job(tmp_path):
    folder = user_folder(tmp_path)
    (folder / "clinical.tsv").write_text("patient\tOS_MONTHS\tOS_STATUS\nP001\t-3\t0:LIVING\n")
    done = snakemake(folder, "samples=my.tsv", "clinical=clinical.tsv", "outdir=out")
    assert done.returncode != 0
    assert "clinical.tsv:2: OS_MONTHS '-3' is not a number >= 0" in done.stderr
    assert not (folder / "out").exists()


def test_a_clinical_sheet_re_runs_the_cohort_step_alone(user_run):
    folder, _done = user_run
    (folder / "clinical.tsv").write_text("patient\tOS_MONTHS\tOS_STATUS\nP001\t12.5\t0:LIVING\n")
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--snakefile",
         str(REPO / "Snakefile"), "--config", "samples=my.tsv", "outdir=out",
         "genome_build=GRCh38", "clinical=clinical.tsv"],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = done.stdout.split("Job stats:", 1)[1]
    jobs = {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)$", table, re.M) if m[0] != "total"}
    assert jobs == {"all": 1, "cohort_summary": 1}, done.stdout
