"""The checks a contributor runs before pushing: snakemake --lint, snakefmt, ruff."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)


@pytest.mark.workflow
def test_snakemake_lint_reports_nothing():
    done = run(sys.executable, "-m", "snakemake", "--lint")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Lints for" not in done.stdout + done.stderr


def test_snakefmt_check_is_clean():
    if shutil.which("snakefmt") is None:
        pytest.skip("snakefmt is not installed (it comes with the [test] extra)")
    done = run("snakefmt", "--check", "Snakefile", "workflow/rules")
    assert done.returncode == 0, done.stderr


def test_ruff_check_and_format_are_clean():
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed (it comes with the [test] extra)")
    done = run("ruff", "check", ".")
    assert done.returncode == 0, done.stdout
    done = run("ruff", "format", "--check", ".")
    assert done.returncode == 0, done.stdout
