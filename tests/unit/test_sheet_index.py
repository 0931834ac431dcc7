"""The cohort step's lean sheet index: the draws `read_sample_sheet` gives, in its order."""

from __future__ import annotations

from pathlib import Path

from ctdna_resistance.samplesheet import read_cohort
from ctdna_resistance.sheet_index import read_sheet_draws

REPO = Path(__file__).resolve().parents[2]


def _by_patient(samples) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for sample in samples:
        grouped.setdefault(sample.patient, []).append(sample.sample)
    return grouped


def test_the_demo_sheet_gives_the_same_draws_in_the_same_order():
    sheet = REPO / "test_data" / "samples.tsv"
    assert read_sheet_draws(sheet) == _by_patient(read_cohort(sheet).samples)


def test_rows_out_of_order_comments_and_a_byte_order_mark(tmp_path):
    (tmp_path / "a.vcf").write_text("##fileformat=VCFv4.2\n")
    sheet = tmp_path / "samples.tsv"
    sheet.write_text(
        "\ufeffsample\tcollection_date\tpatient\tvcf\n"
        "# a comment line\n"
        "B-T1\t2024-03-01\tPB\ta.vcf\n"
        "A-T2\t2024-05-01\tPA\ta.vcf\n"
        "\n"
        "A-T0\t2023-12-30\tPA\ta.vcf\n"
        "A-T1\t2024-01-02\tPA\ta.vcf\n"
        "B-T0\t2024-02-01\tPB\ta.vcf\n",
        encoding="utf-8",
    )
    draws = read_sheet_draws(sheet)
    assert draws == {"PA": ["A-T0", "A-T1", "A-T2"], "PB": ["B-T0", "B-T1"]}
    assert list(draws) == ["PA", "PB"]
    assert draws == _by_patient(read_cohort(sheet).samples)
