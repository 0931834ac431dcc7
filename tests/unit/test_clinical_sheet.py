"""The clinical sheet (config `clinical`): a lab's survival columns into the cBioPortal study.

Allowed values are cBioPortal's own (validateData.py PatientClinicalValidator.checkLine:
OS_STATUS 0:LIVING / 1:DECEASED, DFS_STATUS 0:DiseaseFree / 1:Recurred/Progressed / 1:Recurred /
1:Progressed, any other X_STATUS beside X_MONTHS as 0:label / 1:label).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctdna_resistance.clinical_sheet import read_clinical_sheet
from ctdna_resistance.errors import InputError
from ctdna_resistance.export.cbioportal import RESERVED_CLINICAL_COLUMNS, write_cbioportal_study

FIXTURE = Path(__file__).parent / "data" / "longitudinal_reports.json"
PATIENTS = {"P001", "P002"}
HEADER = "patient\tOS_MONTHS\tOS_STATUS\tDFS_MONTHS\tDFS_STATUS\tAGE\tSEX\tPFS_MONTHS\tPFS_STATUS\n"


def _sheet(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "clinical.tsv"
    path.write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def _patient_table(study: Path) -> tuple[list[list[str]], list[dict]]:
    lines = (study / "data_clinical_patient.txt").read_text(encoding="utf-8").splitlines()
    columns = lines[4].split("\t")
    rows = [dict(zip(columns, line.split("\t"), strict=True)) for line in lines[5:]]
    return [line.lstrip("#").split("\t") for line in lines[:4]], rows


def test_a_sheet_puts_survival_and_other_columns_into_the_patient_file(tmp_path):
    path = _sheet(
        tmp_path,
        "P001\t21.4\t0:LIVING\t9.2\t1:Recurred/Progressed\t63\tFemale\t9.2\t1:Progressed",
        "P002\t14.8\t1:DECEASED\t\t\t71\tMale\tNA\t",
        "P077\t3\t1:DECEASED\t\t\t80\tMale\t\t",  # another patient of the lab: skipped, counted
    )
    sheet = read_clinical_sheet(path, PATIENTS, RESERVED_CLINICAL_COLUMNS)
    assert sheet.skipped == {"P077": 1}
    series = json.loads(FIXTURE.read_text(encoding="utf-8"))
    write_cbioportal_study(
        tmp_path / "study",
        study_id="ctdna_test",
        name="test",
        reports_by_patient=series["reports"],
        treatments=series["treatments"],
        genome_build="GRCh38",
        clinical=sheet,
    )
    header, rows = _patient_table(tmp_path / "study")
    columns = list(rows[0])
    assert columns[-8:] == [
        "OS_MONTHS", "OS_STATUS", "DFS_MONTHS", "DFS_STATUS", "AGE", "SEX", "PFS_MONTHS",
        "PFS_STATUS",
    ]  # fmt: skip
    datatypes = dict(zip(columns, header[2], strict=True))
    assert [datatypes[c] for c in ("OS_MONTHS", "OS_STATUS", "AGE", "SEX", "PFS_MONTHS")] == [
        "NUMBER", "STRING", "NUMBER", "STRING", "NUMBER",
    ]  # fmt: skip
    by_patient = {row["PATIENT_ID"]: row for row in rows}
    assert by_patient["P001"]["OS_STATUS"] == "0:LIVING"
    assert by_patient["P001"]["DFS_STATUS"] == "1:Recurred/Progressed"
    # empty and NA cells are written NA (cBioPortal's null value)
    assert (by_patient["P002"]["DFS_MONTHS"], by_patient["P002"]["PFS_MONTHS"]) == ("NA", "NA")
    assert "P077" not in by_patient


def test_without_a_sheet_the_survival_columns_are_declared_and_na(tmp_path):
    # cBioPortal's validator warns when OS_MONTHS/OS_STATUS or DFS_MONTHS/DFS_STATUS are absent
    series = json.loads(FIXTURE.read_text(encoding="utf-8"))
    write_cbioportal_study(
        tmp_path,
        study_id="ctdna_test",
        name="test",
        reports_by_patient=series["reports"],
        treatments=series["treatments"],
        genome_build="GRCh38",
    )
    _, rows = _patient_table(tmp_path)
    for row in rows:
        assert [row[c] for c in ("OS_MONTHS", "OS_STATUS", "DFS_MONTHS", "DFS_STATUS")] == [
            "NA"
        ] * 4


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("P001\t-3\t0:LIVING\t\t\t\t\t\t", r"OS_MONTHS '-3' is not a number >= 0"),
        ("P001\tten\t0:LIVING\t\t\t\t\t\t", r"OS_MONTHS 'ten' is not a number"),
        ("P001\t3\talive\t\t\t\t\t\t", r"OS_STATUS 'alive' is not one of 0:LIVING, 1:DECEASED"),
        ("P001\t3\t0:LIVING\t2\tRelapsed\t\t\t\t", r"DFS_STATUS 'Relapsed' is not one of"),
        ("P001\t3\t0:LIVING\t\t\t\t\t4\tprogressed", r"PFS_STATUS 'progressed' is not a survival"),
        ("P001\t3\t0:LIVING\t\t\tsixty\t\t\t", r"AGE 'sixty' is not a number"),
        ("P001\t3\t0:LIVING", r"3 cells where the header has 9 columns"),
        ("p-001\t3\t0:LIVING\t\t\t\t\t\t", r"did you mean 'P001'"),
    ],
)
def test_a_bad_value_is_refused_with_its_line(tmp_path, row, message):
    path = _sheet(tmp_path, "P002\t1\t0:LIVING\t\t\t\t\t\t", row)
    with pytest.raises(InputError, match=message) as error:
        read_clinical_sheet(path, PATIENTS, RESERVED_CLINICAL_COLUMNS)
    text = str(error.value)
    assert "clinical.tsv" in text and ":3" in text and "\n" not in text


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("sample\tOS_MONTHS\n", r"first column is 'sample', not 'patient'"),
        ("patient\tos_months\n", r"'os_months' is not a cBioPortal attribute name"),
        ("patient\tN_DRAWS\n", r"'N_DRAWS' is written by ctdna-resistance"),
        ("patient\tMUTATION_COUNT\n", r"'MUTATION_COUNT' is written by ctdna-resistance"),
        ("patient\tAGE\tAGE\n", r"'AGE' appears twice"),
    ],
)
def test_a_bad_header_is_refused(tmp_path, header, message):
    path = _sheet(tmp_path, header=header)
    with pytest.raises(InputError, match=message):
        read_clinical_sheet(path, PATIENTS, RESERVED_CLINICAL_COLUMNS)


def test_a_patient_listed_twice_is_refused(tmp_path):
    path = _sheet(tmp_path, "P001\t1\t0:LIVING\t\t\t\t\t\t", "P001\t2\t0:LIVING\t\t\t\t\t\t")
    with pytest.raises(InputError, match="listed twice"):
        read_clinical_sheet(path, PATIENTS, RESERVED_CLINICAL_COLUMNS)


def test_the_demo_sheet_is_valid():
    demo = Path(__file__).resolve().parents[2] / "config" / "demo_clinical.tsv"
    patients = {"P001", "P002", "P003", "P004", "P005"}
    sheet = read_clinical_sheet(demo, patients, RESERVED_CLINICAL_COLUMNS)
    assert sorted(sheet.values) == sorted(patients) and not sheet.skipped
