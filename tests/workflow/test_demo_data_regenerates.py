"""test_data/ is exactly what `ctdna-resistance simulate` writes with the recorded command."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "test_data"


def test_demo_cohort_is_byte_identical_when_regenerated(tmp_path):
    params = yaml.safe_load((DEMO / "params.yaml").read_text())
    argv = shlex.split(params["command"])
    assert argv[:2] == ["ctdna-resistance", "simulate"]
    out_index = argv.index("--out") + 1
    argv[out_index] = str(tmp_path / "regenerated")
    done = subprocess.run(
        [sys.executable, "-m", "ctdna_resistance.cli", *argv[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    committed = {
        p.relative_to(DEMO): p.read_bytes()
        for p in DEMO.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    fresh = {
        p.relative_to(tmp_path / "regenerated"): p.read_bytes()
        for p in (tmp_path / "regenerated").rglob("*")
        if p.is_file()
    }
    # params.yaml records the command with its --out folder: put the committed one back.
    fresh[Path("params.yaml")] = fresh[Path("params.yaml")].replace(
        str(tmp_path / "regenerated").encode(), b"test_data"
    )
    assert sorted(map(str, committed)) == sorted(map(str, fresh))
    changed = [str(k) for k in committed if committed[k] != fresh[k]]
    assert not changed, f"differ from a fresh simulation: {changed}"
