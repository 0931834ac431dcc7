"""`snakemake --report` bundles the key outputs with their captions after a run."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[2]


def snakemake(*args):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--snakefile", str(REPO / "Snakefile"),
         *args],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_report_bundles_draw_reports_longitudinal_pages_and_the_cohort(tmp_path):
    out = tmp_path / "results"
    assert snakemake("--config", f"outdir={out}").returncode == 0
    bundle = tmp_path / "report.zip"
    done = snakemake("--config", f"outdir={out}", "--report", str(bundle))
    assert done.returncode == 0, done.stderr[-3000:]
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        text = "\n".join(
            archive.read(n).decode("utf-8", "replace") for n in names if n.endswith(".html")
        )
    assert any(n.endswith("summary.html") for n in names)
    assert any(n.endswith("longitudinal.html") for n in names)
    assert any(n.endswith("P001-T0.html") for n in names)
    assert "Per-draw reports" in text and "Cohort" in text
