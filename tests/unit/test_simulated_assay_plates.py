"""The simulator's ddPCR patients (issue 17 item 5): QuantaSoft exports whose droplet counts are the
truth's, read by the product's reader, with the other patients' files unchanged."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from ctdna_resistance.io.quantasoft import read_quantasoft
from ctdna_resistance.simulate import simulate_cohort
from ctdna_resistance.simulate.assay_plates import simulate_plate

REPO = Path(__file__).resolve().parents[2]
PANEL = REPO / "panels" / "anti_egfr_crc.yaml"


def read_tsv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("assay_cohorts")
    simulate_cohort(root / "plain", seed=3, n_patients=2, n_draws=3, panel_path=PANEL, n_normals=2)
    simulate_cohort(
        root / "ddpcr", seed=3, n_patients=2, n_draws=3, panel_path=PANEL, n_normals=2,
        n_ddpcr_patients=1,
    )  # fmt: skip
    return root / "plain", root / "ddpcr"


def test_a_ddpcr_patient_leaves_the_other_patients_files_as_they_were(cohorts):
    plain, ddpcr = cohorts
    for path in sorted(p for p in plain.rglob("*") if p.is_file()):
        rel = path.relative_to(plain)
        if rel.name in ("samples.tsv", "params.yaml"):
            continue
        other = (ddpcr / rel).read_bytes()
        if rel.name.endswith(".tsv") and rel.parent == Path("."):  # truth and treatment tables
            lines = path.read_bytes().splitlines()
            assert [line for line in other.splitlines() if not line.startswith(b"P003")] == lines
        else:
            assert other == path.read_bytes(), rel
    sheet = read_tsv(ddpcr / "samples.tsv")
    plain_sheet = read_tsv(plain / "samples.tsv")
    assert [{k: r[k] for k in plain_sheet[0]} for r in sheet[: len(plain_sheet)]] == plain_sheet
    mine = [r for r in sheet if r["patient"] == "P003"]
    assert [bool(r["vcf"]) for r in mine] == [True, False, True]  # NGS, ddPCR, NGS
    assert mine[1]["assay"] == "assay/P003-T1.ddpcr.csv" and mine[1]["assay_sample"]


def test_the_plate_reads_back_with_the_truths_droplets_and_its_controls(cohorts):
    _, ddpcr = cohorts
    truth = read_tsv(ddpcr / "truth_assays.tsv")
    plate = ddpcr / "assay" / "P003-T1.ddpcr.csv"
    records = {r.well: r for r in read_quantasoft(plate)}
    rows = [r for r in truth if r["sample"] == "P003-T1"]
    assert {r["role"] for r in rows} == {"sample", "wildtype_control", "ntc"}
    assert sorted(records) == sorted(r["well"] for r in rows)
    for row in rows:
        record = records[row["well"]]
        assert record.role == row["role"]
        assert record.target == row["target"]
        assert record.mutant_positives == int(row["mutant_positives"])
        assert record.wildtype_positives == int(row["wildtype_positives"])
        assert record.accepted_partitions == int(row["accepted_droplets"])
        if row["role"] == "ntc":
            assert record.mutant_positives == record.wildtype_positives == 0
        if record.file_fraction is not None and record.mutant_positives:
            n = record.accepted_partitions
            mutant = math.log(n / (n - record.mutant_positives))
            wild = math.log(n / (n - record.wildtype_positives))
            # QuantaSoft's three significant figures
            assert record.file_fraction == pytest.approx(mutant / (mutant + wild), rel=5e-3)


def test_droplet_counts_follow_the_poisson_loading_of_the_truth():
    """Copies estimated from positive droplets (-N ln(1 - k/N)) average the copies loaded."""
    rng = np.random.default_rng(11)
    estimates, loaded = [], []
    for _ in range(200):
        (well,) = [w for w in simulate_plate(rng, "S", [("KRAS G12D", "KRAS WT", 0.02)])
                   if w.role == "sample"]  # fmt: skip
        n = well.accepted
        estimates.append(-n * math.log(1 - well.mutant_positives / n))
        loaded.append(well.input_copies * 0.02)
    mean_gap = np.mean(np.array(estimates) - np.array(loaded))
    spread = np.std(np.array(estimates) - np.array(loaded)) / math.sqrt(len(loaded))
    assert abs(mean_gap) < 4 * spread
