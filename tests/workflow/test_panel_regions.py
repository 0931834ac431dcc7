"""Reading only the panel genes through the VCF's index gives the same resistance calls."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from conftest import draw_folder

REPO = Path(__file__).resolve().parents[2]


def calls(tmp_path: Path, sample: str, mode: str) -> Path:
    out = tmp_path / mode
    done = subprocess.run(
        [sys.executable, "-m", "ctdna_resistance.cli", "calls", "--sample", sample,
         "--set", f"outdir={out}", "--set", f"detection.vcf_read={mode}"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return draw_folder(out, sample)


def test_indexed_panel_read_reports_what_the_whole_file_read_reports(tmp_path):
    sample = "P001-T3"  # bgzipped and tabix-indexed in test_data
    indexed = calls(tmp_path, sample, "panel_regions")
    whole = calls(tmp_path, sample, "whole_file")
    acct_indexed = json.loads((indexed / "accounting.json").read_text())
    acct_whole = json.loads((whole / "accounting.json").read_text())
    assert acct_indexed["vcf"]["used_index"] is True
    assert acct_whole["vcf"]["used_index"] is False
    assert acct_indexed["vcf"]["records_read"] < acct_whole["vcf"]["records_read"]
    assert acct_indexed["reconciles"] and acct_whole["reconciles"]
    assert without_record_no(indexed) == without_record_no(whole)


def without_record_no(folder: Path) -> list[dict]:
    """The alteration rows; record_no counts the records read, which differs between modes."""
    with open(folder / "alterations.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert rows, "the sample should carry a resistance alteration"
    return [{k: v for k, v in row.items() if k != "record_no"} for row in rows]
