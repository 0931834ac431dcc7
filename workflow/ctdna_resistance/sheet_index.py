"""The sample sheet's draws per patient, read lean for a cohort-scale step (issue 19).

`samplesheet.read_sample_sheet` validates every row and builds a `Sample` per draw with its input
paths: right at the start of a run, but at 600,000 draws that is some 900 MB, which the cohort
summary does not need. It needs which draws each patient has, in date order, to find their
reports. This reads just the patient, sample and collection_date columns of a sheet that was
validated before (by the workflow's start, or by the command line before the step runs).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from ctdna_resistance.errors import InputError


def read_sheet_draws(path) -> dict[str, list[str]]:
    """Sample IDs by patient (patients sorted, each patient's samples by collection date), as
    `read_sample_sheet` orders them."""
    path = Path(path)
    draws: list[tuple[str, dt.date, str]] = []
    names: dict[str, str] = {}  # one string object per patient, not one per row
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = (line for line in handle if line.strip() and not line.startswith("#"))
        reader = csv.reader(rows, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = [name.strip() for name in next(reader, [])]
        try:
            at = [header.index(column) for column in ("patient", "sample", "collection_date")]
        except ValueError:
            raise InputError(
                path,
                "sample sheet lacks patient, sample or collection_date",
                "check the sheet with ctdna-resistance validate",
            ) from None
        for values in reader:
            patient, sample, day = (values[i].strip() for i in at)
            patient = names.setdefault(patient, patient)
            try:
                draws.append((patient, dt.date.fromisoformat(day), sample))
            except ValueError:
                raise InputError(
                    path, f"collection_date {day!r} of {sample!r} is not an ISO date",
                    "check the sheet (ctdna-resistance validate) and fix the date",
                ) from None  # fmt: skip
    draws.sort(key=lambda draw: (draw[0], draw[1]))
    by_patient: dict[str, list[str]] = {}
    for patient, _day, sample in draws:
        by_patient.setdefault(patient, []).append(sample)
    return by_patient
