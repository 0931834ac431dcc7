"""The optional clinical sheet (config key `clinical`): per-patient cBioPortal clinical columns.

A TSV with a `patient` column and one column per cBioPortal patient attribute, named as cBioPortal
names them (upper case, digits, underscores): OS_MONTHS / OS_STATUS and DFS_MONTHS / DFS_STATUS
give the portal its survival plots; any other column (AGE, SEX, a lab's own) is carried through.
Values are checked the way cBioPortal's study validator checks them (docs.cbioportal.org/
file-formats/#clinical-data; validateData.py PatientClinicalValidator), so a sheet that passes here
imports without errors. Like the treatment timeline, a sheet may list more patients than the
sample sheet: their rows are skipped and counted; a near-miss of a sheet patient is refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.samplesheet import near_patient

ATTRIBUTE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,59}$")
# cBioPortal's null values of clinical data (validateData.py ClinicalValidator.NULL_VALUES, lower
# case); a sheet's empty cell is written as NA.
NULL_VALUES = {"", "na", "[not applicable]", "[not available]", "[pending]", "[discrepancy]",
               "[completed]", "[null]"}  # fmt: skip
# Survival columns the portal reads (validateData.py PatientClinicalValidator.checkLine).
STATUS_VALUES = {
    "OS_STATUS": ("0:LIVING", "1:DECEASED"),
    "DFS_STATUS": ("0:DiseaseFree", "1:Recurred/Progressed", "1:Recurred", "1:Progressed"),
}
# (column, display name, description, datatype): every study has these four, NA where unknown,
# so the portal's survival columns are always declared (and its validator does not warn).
SURVIVAL_ATTRIBUTES = [
    ("OS_MONTHS", "Overall Survival (Months)", "Overall survival in months", "NUMBER"),
    ("OS_STATUS", "Overall Survival Status", "Overall survival status (0:LIVING, 1:DECEASED)",
     "STRING"),
    ("DFS_MONTHS", "Disease Free (Months)", "Disease-free survival in months", "NUMBER"),
    ("DFS_STATUS", "Disease Free Status",
     "Disease-free status (0:DiseaseFree, 1:Recurred/Progressed)", "STRING"),
]  # fmt: skip
# cBioPortal's predefined patient attributes with a fixed datatype (validateData.py
# ClinicalValidator.PREDEFINED_ATTRIBUTES, is_patient_attribute 1).
NUMBER_ATTRIBUTES = {"AGE", "OS_MONTHS", "DFS_MONTHS"}
STRING_ATTRIBUTES = {"SEX", "GENDER", "PATIENT_DISPLAY_NAME", "TUMOR_SITE"}
# Attributes the portal computes itself and refuses in a study (BANNED_ATTRIBUTES), and the
# sample-level ones it refuses in a patient file.
REFUSED_ATTRIBUTES = {"MUTATION_COUNT", "FRACTION_GENOME_ALTERED", "SAMPLE_ID"}


@dataclass
class ClinicalSheet:
    """The sheet's attributes beyond the survival four, in sheet order, and its values."""

    path: Path | None = None
    extra_attributes: list[tuple[str, str, str, str]] = field(default_factory=list)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # patient -> column -> value
    skipped: dict[str, int] = field(default_factory=dict)  # rows of patients not in the sheet

    @property
    def attributes(self) -> list[tuple[str, str, str, str]]:
        """(column, display name, description, datatype) of every clinical column written."""
        return [*SURVIVAL_ATTRIBUTES, *self.extra_attributes]

    def row(self, patient: str) -> dict[str, str]:
        """The patient's clinical columns, NA where the sheet has no value."""
        given = self.values.get(patient, {})
        return {column: given.get(column) or "NA" for column, *_ in self.attributes}


def read_clinical_sheet(
    path, patients: set[str], reserved: set[str] = frozenset()
) -> ClinicalSheet:
    """Read and check a clinical sheet; ``reserved``: columns the study writes itself."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "clinical sheet not found", "check the `clinical` key of the config")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError(path, "clinical sheet is not UTF-8 text", "save it as UTF-8") from None
    if not lines or not lines[0].strip():
        raise InputError(path, "clinical sheet is empty", "give a header row starting with patient")
    header = [name.strip() for name in lines[0].split("\t")]
    columns = _check_header(path, header, reserved)
    sheet = ClinicalSheet(path=path)
    numbers: dict[str, bool] = {column: True for column in columns}
    seen: dict[str, int] = {}
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise InputError(
                path,
                f"{len(cells)} cells where the header has {len(header)} columns",
                "give one tab-separated value per column (empty for unknown)",
                record=number,
            )
        row = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        patient = row["patient"]
        if patient in seen:
            raise InputError(
                path,
                f"patient {patient!r} is listed twice (also line {seen[patient]})",
                "keep one row per patient",
                record=number,
            )
        seen[patient] = number
        if patient not in patients:
            near = near_patient(patient, patients)
            if near is not None:
                raise InputError(
                    path,
                    f"patient {patient!r} is not in the sample sheet; did you mean {near!r}?",
                    "correct the patient ID (rows of patients absent from the sheet are skipped)",
                    record=number,
                )
            sheet.skipped[patient] = sheet.skipped.get(patient, 0) + 1
            continue
        values = {}
        for column in columns:
            value = _check_value(path, number, column, row[column], header)
            if value and not _is_number(value):
                numbers[column] = False
            values[column] = value
        sheet.values[patient] = values
    survival = {column for column, *_ in SURVIVAL_ATTRIBUTES}
    sheet.extra_attributes = [
        (
            column,
            column.replace("_", " ").title(),
            f"{column} from the clinical sheet",
            "NUMBER"
            if numbers[column] and sheet.values and column not in STRING_ATTRIBUTES
            else "STRING",
        )
        for column in columns
        if column not in survival
    ]
    sheet.skipped = dict(sorted(sheet.skipped.items()))
    return sheet


def _check_header(path: Path, header: list[str], reserved: set[str]) -> list[str]:
    if header[0] != "patient":
        raise InputError(
            path,
            f"the first column is {header[0]!r}, not 'patient'",
            "start the header with patient, then cBioPortal clinical columns (e.g. OS_MONTHS)",
            record=1,
        )
    columns = header[1:]
    for column in columns:
        if columns.count(column) > 1:
            raise InputError(path, f"column {column!r} appears twice", "keep one", record=1)
        if not ATTRIBUTE_PATTERN.match(column):
            raise InputError(
                path,
                f"column {column!r} is not a cBioPortal attribute name",
                "use upper-case letters, digits and underscores, starting with a letter "
                "(e.g. OS_MONTHS)",
                record=1,
            )
        if column in REFUSED_ATTRIBUTES or column in reserved:
            raise InputError(
                path,
                f"column {column!r} is written by ctdna-resistance or computed by cBioPortal",
                "remove it from the clinical sheet",
                record=1,
            )
    return columns


def _check_value(path: Path, number: int, column: str, value: str, header: list[str]) -> str:
    """The value as written to the study ('' for a null value); InputError when the portal
    would refuse it."""
    if value.lower() in NULL_VALUES:
        return ""
    if column in NUMBER_ATTRIBUTES or column.endswith("_MONTHS"):
        if not _is_number(value) or float(value) < 0:
            raise InputError(
                path,
                f"{column} {value!r} is not a number >= 0",
                "give a number (months or years), or leave the cell empty",
                record=number,
            )
    elif column in STATUS_VALUES:
        if value not in STATUS_VALUES[column]:
            raise InputError(
                path,
                f"{column} {value!r} is not one of {', '.join(STATUS_VALUES[column])}",
                "use one of those values, or leave the cell empty",
                record=number,
            )
    elif (
        column.endswith("_STATUS")
        and column[: -len("STATUS")] + "MONTHS" in header
        and not re.match(r"^[01]:\S", value)
    ):
        # any other survival pair: the portal wants "0:label" or "1:label"
        raise InputError(
            path,
            f"{column} {value!r} is not a survival status like '0:LIVING' or '1:DECEASED'",
            "write 0:<label> (no event) or 1:<label> (event)",
            record=number,
        )
    return value


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False
