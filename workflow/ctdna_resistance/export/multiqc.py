"""A MultiQC custom-content table of every draw (issue 19, item 4): labs already read MultiQC.

One `*_mqc.tsv` per cohort, whose `#` header is MultiQC's custom-content configuration (section
id and name, a table plot, each column's title, description and format: docs.seqera.io/multiqc/
custom_content). `multiqc <outdir>` then shows a "ctdna-resistance" section with one row per
draw; `multiqc_data/` holds the same values for scripts. Values come from the per-draw reports.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

FILE_NAME = "ctdna_resistance_mqc.tsv"
SMALL_VARIANT_TYPES = ("snv", "mnv", "insertion", "deletion", "indel")
SECTION_ID = "ctdna_resistance"
# (column, title, description, format or None for text)
COLUMNS = [
    ("patient", "Patient", "Patient ID", None),
    ("timepoint", "Timepoint", "Draw label (T0 = baseline)", None),
    ("median_depth", "Depth", "Median depth at the tracked panel small-variant sites", "{:,.0f}"),
    ("tumor_fraction", "TF", "Tumour fraction (0-1)", "{:,.4f}"),
    ("tumor_fraction_method", "TF method", "How the tumour fraction was estimated", None),
    ("ctdna_status", "ctDNA", "Pooled tumour-informed test of the patient's markers", None),
    ("ctdna_level", "ctDNA level", "Pooled mutant allele fraction (0-1)", "{:,.5f}"),
    ("molecular_response", "Response", "ctDNA level against the baseline draw", None),
    ("records_read", "Records", "Input records read (VCF alleles, segments, SV events)", "{:,.0f}"),
    ("records_reported", "Reported", "Input records behind reported alterations", "{:,.0f}"),
    ("records_filtered", "Filtered", "Input records filtered, each with its reason", "{:,.0f}"),
    ("alterations_detected", "Alterations", "Resistance alterations detected", "{:,.0f}"),
    ("resistance_status", "Resistance", "emerging / detected / none_detected", None),
]


def _header() -> list[str]:
    """MultiQC's custom-content configuration as YAML (dumped, so quotes in text are safe)."""
    headers = {}
    for column, title, description, number_format in COLUMNS:
        headers[column] = {"title": title, "description": description}
        if number_format:
            headers[column]["format"] = number_format
    config = {
        "id": SECTION_ID,
        "section_name": "ctdna-resistance",
        "description": (
            "Per plasma draw: depth at the panel sites, tumour fraction, the pooled ctDNA level "
            "and molecular response, records read / reported / filtered and resistance "
            "alterations detected (research use only)."
        ),
        "format": "tsv",
        "plot_type": "table",
        "pconfig": {
            "id": f"{SECTION_ID}_table",
            "title": "ctdna-resistance: per-draw QC",
            "namespace": "ctdna-resistance",
        },
        "headers": headers,
    }
    text = yaml.safe_dump(config, sort_keys=False, width=1000)
    return [f"# {line}" for line in text.rstrip("\n").split("\n")]


def draw_row(report: Mapping) -> dict:
    """One draw's values (report: a per-draw report dict)."""
    depths = [
        entry["depth"]
        for entry in [*report.get("alterations", []), *report.get("not_detected", [])]
        if entry.get("depth") and entry.get("type") in SMALL_VARIANT_TYPES
    ]
    level = report.get("ctdna_level") or {}
    tumour = report.get("tumor_fraction") or {}
    qc = report.get("qc") or {}
    return {
        "patient": report["patient"],
        "timepoint": report.get("timepoint", ""),
        "median_depth": statistics.median(depths) if depths else None,
        "tumor_fraction": tumour.get("value"),
        "tumor_fraction_method": tumour.get("method") or "",
        "ctdna_status": level.get("status", "not_assessed"),
        "ctdna_level": level.get("estimate") if level.get("status") == "detected" else None,
        "molecular_response": level.get("response") or "",
        "records_read": qc.get("records_read"),
        "records_reported": qc.get("reported"),
        "records_filtered": qc.get("filtered"),
        "alterations_detected": len(report.get("alterations", [])),
        "resistance_status": (report.get("resistance") or {}).get("status", ""),
    }


def _cell(value) -> str:
    if value is None:
        return ""  # MultiQC leaves an empty cell blank
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace("\t", " ").replace("\n", " ")


class MultiqcTable:
    """The cohort's custom-content file written draw by draw: ``add`` one patient's reports at a
    time (patients in sorted order, each patient's draws by date), then ``close``."""

    def __init__(self, path) -> None:
        self._handle = Path(path).open("w", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self._handle.write("\n".join(_header()) + "\n")
        self._handle.write("\t".join(["Sample", *(column for column, *_ in COLUMNS)]) + "\n")

    def add(self, reports: Sequence[Mapping]) -> None:
        for report in reports:
            row = draw_row(report)
            cells = [report["sample"], *(_cell(row[column]) for column, *_ in COLUMNS)]
            self._handle.write("\t".join(cells) + "\n")

    def close(self) -> None:
        self._handle.close()


def write_multiqc_table(path, reports_by_patient: Mapping[str, Sequence[Mapping]]) -> None:
    """The cohort's custom-content file, one row per draw (sorted by patient, then date)."""
    table = MultiqcTable(path)
    try:
        for patient in sorted(reports_by_patient):
            table.add(reports_by_patient[patient])
    finally:
        table.close()
