"""A cBioPortal study folder from the per-draw reports (docs.cbioportal.org/file-formats/).

Written: meta_study.txt; clinical patient and sample files (the 5-row header format); mutations
(MAF, `export.maf`); discrete copy number (wide format, genes x samples); timeline files for the
plasma specimens and the treatments (START_DATE in days from the patient's baseline draw, so no
calendar date leaves the lab); case lists all, sequenced, cna (required with mutation and
discrete CNA data) and cnaseq. Every file is sorted and has no timestamp.
Research use only.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.export.maf import draw_maf_rows, write_maf

STUDY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,60}$")
TYPE_OF_CANCER = "coadread"  # OncoTree code of colorectal adenocarcinoma, known to every portal
REFERENCE_GENOMES = {"GRCh38": "hg38", "GRCh37": "hg19"}
# Discrete CNA levels (cBioPortal: 2 = high-level amplification, -2 = deep loss, 0 = diploid).
CNA_LEVELS = {"amplification": "2", "deletion_cn": "-2"}
COPY_NUMBER_INPUT_ROLES = frozenset({"cnv", "copy_number", "cna"})
SMALL_VARIANT_INPUT_ROLES = frozenset({"vcf", "small_variants"})

# (column, display name, description, datatype, priority)
PATIENT_ATTRIBUTES = [
    ("PATIENT_ID", "Patient Identifier", "Patient identifier", "STRING", "1"),
    ("N_DRAWS", "Plasma draws", "Number of plasma draws analysed", "NUMBER", "1"),
    ("ANTI_EGFR_AGENTS", "Anti-EGFR agents", "Anti-EGFR agents in the timeline", "STRING", "1"),
    (
        "LATEST_RESISTANCE_STATUS",
        "Resistance status (latest draw)",
        "Resistance status at the latest plasma draw",
        "STRING",
        "1",
    ),
    (
        "RESISTANCE_MECHANISMS",
        "Resistance mechanisms",
        "Resistance mechanisms detected at any draw",
        "STRING",
        "1",
    ),
    (
        "FIRST_EMERGENCE_SAMPLE",
        "First emergence sample",
        "First draw with emerging resistance",
        "STRING",
        "1",
    ),
]
SAMPLE_ATTRIBUTES = [
    ("PATIENT_ID", "Patient Identifier", "Patient identifier", "STRING", "1"),
    ("SAMPLE_ID", "Sample Identifier", "Plasma sample identifier", "STRING", "1"),
    ("CANCER_TYPE", "Cancer Type", "Cancer type", "STRING", "1"),
    ("SAMPLE_CLASS", "Sample Class", "Kind of sample", "STRING", "1"),
    ("TIMEPOINT", "Timepoint", "Timepoint label of the draw", "STRING", "1"),
    ("DAYS_SINCE_BASELINE", "Days since baseline", "Days since the first draw", "NUMBER", "1"),
    ("TUMOR_FRACTION", "Tumour fraction", "Estimated ctDNA tumour fraction", "NUMBER", "1"),
    ("TUMOR_FRACTION_METHOD", "Tumour fraction method", "How it was estimated", "STRING", "1"),
    (
        "CTDNA_LEVEL",
        "ctDNA level",
        "Pooled tumour-informed mutant allele fraction (NA when not detected)",
        "NUMBER",
        "1",
    ),
    ("CTDNA_STATUS", "ctDNA status", "detected / not_detected / not_assessed", "STRING", "1"),
    (
        "MOLECULAR_RESPONSE",
        "Molecular response",
        "ctDNA level against the baseline draw",
        "STRING",
        "1",
    ),
    ("ON_ANTI_EGFR", "On anti-EGFR", "On anti-EGFR therapy at the draw", "STRING", "1"),
    ("RESISTANCE_STATUS", "Resistance status", "Resistance status of the draw", "STRING", "1"),
    (
        "RESISTANCE_ALTERATIONS",
        "Resistance alterations",
        "Panel resistance alterations detected in the draw",
        "STRING",
        "1",
    ),
    (
        "RAS_BRAF_EGFR_ECD_UNDETECTABLE",
        "RAS/BRAF/EGFR-ECD undetectable",
        "No RAS, BRAF or EGFR-ECD alteration detectable in the draw",
        "STRING",
        "1",
    ),
]
SPECIMEN_COLUMNS = [
    "PATIENT_ID",
    "START_DATE",
    "STOP_DATE",
    "EVENT_TYPE",
    "SAMPLE_ID",
    "SPECIMEN_TYPE",
    "TIMEPOINT",
    "CTDNA_LEVEL",
    "CTDNA_STATUS",
    "MOLECULAR_RESPONSE",
]
TREATMENT_COLUMNS = [
    "PATIENT_ID",
    "START_DATE",
    "STOP_DATE",
    "EVENT_TYPE",
    "TREATMENT_TYPE",
    "AGENT",
    "AGENT_CLASS",
    "LINE",
    "ONGOING",
]


def write_cbioportal_study(
    outdir,
    *,
    study_id: str,
    name: str,
    reports_by_patient: dict[str, list[dict]],
    treatments: list[dict],
    genome_build: str,
) -> None:
    """Write a cBioPortal study folder for every patient's per-draw reports.

    `treatments` are dicts with patient, agent, start_date, end_date (None = ongoing), line and
    anti_egfr (see `report.longitudinal.treatment_dicts`); treatments of patients without reports
    are left out, since cBioPortal refuses events of unknown patients.
    """
    if not STUDY_ID_PATTERN.match(study_id or ""):
        raise InputError(
            None,
            f"cBioPortal study id {study_id!r} is not usable",
            "use 1-60 letters, digits or underscores",
        )
    if genome_build not in REFERENCE_GENOMES:
        raise InputError(None, f"genome build {genome_build!r} unknown", "use GRCh38 or GRCh37")
    out = Path(outdir)
    (out / "case_lists").mkdir(parents=True, exist_ok=True)
    patients = {
        patient: sorted(
            reports, key=lambda r: (str(r.get("collection_date")), str(r.get("sample")))
        )
        for patient, reports in sorted(reports_by_patient.items())
        if reports
    }
    all_reports = [r for reports in patients.values() for r in reports]
    samples = [str(r["sample"]) for r in all_reports]
    own_treatments = [t for t in treatments if t.get("patient") in patients]

    _write_meta(
        out / "meta_study.txt",
        [
            ("type_of_cancer", TYPE_OF_CANCER),
            ("cancer_study_identifier", study_id),
            ("name", name),
            (
                "description",
                "Serial plasma ctDNA draws of patients on anti-EGFR therapy: resistance "
                "alterations per draw (ctdna-resistance). Research use only.",
            ),
            ("reference_genome", REFERENCE_GENOMES[genome_build]),
        ],
    )

    _write_clinical(
        out, study_id, "PATIENT", PATIENT_ATTRIBUTES, _patient_rows(patients, own_treatments)
    )
    _write_clinical(out, study_id, "SAMPLE", SAMPLE_ATTRIBUTES, _sample_rows(patients))

    _write_meta(
        out / "meta_mutations.txt",
        [
            ("cancer_study_identifier", study_id),
            ("genetic_alteration_type", "MUTATION_EXTENDED"),
            ("datatype", "MAF"),
            ("stable_id", "mutations"),
            ("show_profile_in_analysis_tab", "true"),
            ("profile_name", "Mutations (plasma ctDNA)"),
            (
                "profile_description",
                "Panel resistance small variants detected in plasma ctDNA, per draw.",
            ),
            ("data_filename", "data_mutations.txt"),
        ],
    )
    write_maf(out / "data_mutations.txt", [row for r in all_reports for row in draw_maf_rows(r)])

    _write_meta(
        out / "meta_cna.txt",
        [
            ("cancer_study_identifier", study_id),
            ("genetic_alteration_type", "COPY_NUMBER_ALTERATION"),
            ("datatype", "DISCRETE"),
            ("stable_id", "cna"),
            ("show_profile_in_analysis_tab", "true"),
            ("profile_name", "Putative copy-number alterations (plasma ctDNA)"),
            (
                "profile_description",
                "Panel gene copy number from plasma ctDNA. Values: -2 = deep loss; 0 = no call; "
                "2 = amplification; NA = copy number not assessed in the draw.",
            ),
            ("data_filename", "data_cna.txt"),
        ],
    )
    _write_tsv(out / "data_cna.txt", ["Hugo_Symbol", *samples], _cna_rows(all_reports))

    _write_meta(out / "meta_timeline_specimen.txt", _timeline_meta(study_id, "specimen"))
    _write_tsv(out / "data_timeline_specimen.txt", SPECIMEN_COLUMNS, _specimen_rows(patients))
    _write_meta(out / "meta_timeline_treatment.txt", _timeline_meta(study_id, "treatment"))
    _write_tsv(
        out / "data_timeline_treatment.txt",
        TREATMENT_COLUMNS,
        _treatment_rows(patients, own_treatments),
    )

    sequenced = [
        str(r["sample"]) for r in all_reports if _input_roles(r) & SMALL_VARIANT_INPUT_ROLES
    ] or samples
    case_lists = [
        ("all", "All samples", "All plasma samples", "all_cases_in_study", samples),
        (
            "sequenced",
            "Samples with mutation data",
            "Plasma samples with small-variant calls",
            "all_cases_with_mutation_data",
            sequenced,
        ),
        (
            "cna",
            "Samples with CNA data",
            "Plasma samples in the discrete copy-number profile",
            "all_cases_with_cna_data",
            samples,
        ),
        (
            "cnaseq",
            "Samples with mutation and CNA data",
            "Plasma samples with small-variant calls and in the copy-number profile",
            "all_cases_with_mutation_and_cna_data",
            sequenced,
        ),
    ]
    for suffix, list_name, description, category, ids in case_lists:
        _write_meta(
            out / "case_lists" / f"cases_{suffix}.txt",
            [
                ("cancer_study_identifier", study_id),
                ("stable_id", f"{study_id}_{suffix}"),
                ("case_list_name", list_name),
                ("case_list_description", f"{description} ({len(ids)} samples)"),
                ("case_list_category", category),
                ("case_list_ids", "\t".join(ids)),
            ],
        )


# ----------------------------------------------------------------------------- writers


def _clean(value: object) -> str:
    """One-line cell text: tabs and line breaks would break the TSV and meta formats."""
    if value is None:
        return ""
    return re.sub(r"[\t\r\n]+", " ", str(value)).strip()


def _write_meta(path: Path, pairs: Sequence[tuple[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for key, value in pairs:
            # case_list_ids is tab-separated by definition; every other value is one clean line.
            text = value if key == "case_list_ids" else _clean(value)
            handle.write(f"{key}: {text}\n")


def _write_tsv(path: Path, columns: Sequence[str], rows: Iterable[Mapping]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_clean(row.get(column)) for column in columns])


def _write_clinical(
    out: Path, study_id: str, level: str, attributes: Sequence[tuple], rows: list[dict]
) -> None:
    """Meta and data file of clinical attributes, with the four '#' header rows."""
    kind = level.lower()
    _write_meta(
        out / f"meta_clinical_{kind}.txt",
        [
            ("cancer_study_identifier", study_id),
            ("genetic_alteration_type", "CLINICAL"),
            ("datatype", f"{level}_ATTRIBUTES"),
            ("data_filename", f"data_clinical_{kind}.txt"),
        ],
    )
    with open(out / f"data_clinical_{kind}.txt", "w", encoding="utf-8", newline="") as handle:
        for field in (1, 2, 3, 4):
            handle.write("#" + "\t".join(attribute[field] for attribute in attributes) + "\n")
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow([attribute[0] for attribute in attributes])
        for row in rows:
            writer.writerow([_clean(row.get(attribute[0])) for attribute in attributes])


def _timeline_meta(study_id: str, kind: str) -> list[tuple[str, str]]:
    return [
        ("cancer_study_identifier", study_id),
        ("genetic_alteration_type", "CLINICAL"),
        ("datatype", "TIMELINE"),
        ("data_filename", f"data_timeline_{kind}.txt"),
    ]


# ----------------------------------------------------------------------------- rows


def _input_roles(report: Mapping) -> set[str]:
    return {str(i.get("role")) for i in (report.get("provenance") or {}).get("inputs", [])}


def _yes_no(value: object) -> str:
    return {True: "Yes", False: "No"}.get(value, "NA")  # type: ignore[arg-type]


def _number(value: object) -> str:
    return "NA" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)


def _patient_rows(patients: Mapping[str, list[dict]], treatments: Sequence[Mapping]) -> list[dict]:
    rows = []
    for patient, reports in patients.items():
        agents = sorted(
            {
                str(t["agent"])
                for t in treatments
                if t.get("patient") == patient and t.get("anti_egfr")
            }
        )
        mechanisms = sorted(
            {str(m) for r in reports for m in (r.get("resistance") or {}).get("mechanisms", [])}
        )
        emerging = next(
            (r for r in reports if (r.get("resistance") or {}).get("status") == "emerging"), None
        )
        rows.append(
            {
                "PATIENT_ID": patient,
                "N_DRAWS": str(len(reports)),
                "ANTI_EGFR_AGENTS": ";".join(agents) or "NA",
                "LATEST_RESISTANCE_STATUS": (reports[-1].get("resistance") or {}).get(
                    "status", "NA"
                ),
                "RESISTANCE_MECHANISMS": ";".join(mechanisms) or "NA",
                "FIRST_EMERGENCE_SAMPLE": emerging["sample"] if emerging else "NA",
            }
        )
    return rows


def _sample_rows(patients: Mapping[str, list[dict]]) -> list[dict]:
    rows = []
    for patient, reports in patients.items():
        for report in reports:
            resistance = report.get("resistance") or {}
            tumor_fraction = report.get("tumor_fraction") or {}
            alterations = [
                f"{a.get('gene', '')} {a.get('alteration', '')}".strip()
                for a in report.get("alterations", [])
            ]
            rows.append(
                {
                    "PATIENT_ID": patient,
                    "SAMPLE_ID": report["sample"],
                    "CANCER_TYPE": "Colorectal Cancer",
                    "SAMPLE_CLASS": "cfDNA",
                    "TIMEPOINT": report.get("timepoint") or "NA",
                    "DAYS_SINCE_BASELINE": _number(report.get("days_since_baseline")),
                    "TUMOR_FRACTION": _number(tumor_fraction.get("value")),
                    "TUMOR_FRACTION_METHOD": tumor_fraction.get("method") or "NA",
                    **_level_columns(report.get("ctdna_level") or {}),
                    "ON_ANTI_EGFR": _yes_no((report.get("anti_egfr") or {}).get("on_therapy")),
                    "RESISTANCE_STATUS": resistance.get("status", "NA"),
                    "RESISTANCE_ALTERATIONS": ";".join(alterations) or "NA",
                    "RAS_BRAF_EGFR_ECD_UNDETECTABLE": _yes_no(
                        resistance.get("ras_braf_egfr_ecd_undetectable")
                    ),
                }
            )
    return rows


def _level_columns(level: Mapping) -> dict:
    """The draw's pooled ctDNA level (report['ctdna_level']) as clinical/timeline columns."""
    status = level.get("status") or "not_assessed"
    return {
        "CTDNA_LEVEL": _number(level.get("estimate")) if status == "detected" else "NA",
        "CTDNA_STATUS": status,
        "MOLECULAR_RESPONSE": level.get("response") or "NA",
    }


def _cna_rows(reports: Sequence[Mapping]) -> list[dict]:
    """One row per gene with a copy-number call in any draw; a column per sample.

    A draw whose inputs include copy number gets 0 for a gene it did not call; a draw without
    copy-number input gets NA (not assessed), never a claimed diploid 0.
    """
    calls: dict[str, dict[str, str]] = {}
    for report in reports:
        for alteration in report.get("alterations", []):
            level = CNA_LEVELS.get(str(alteration.get("type")))
            if level and alteration.get("status") == "detected":
                calls.setdefault(str(alteration["gene"]), {})[str(report["sample"])] = level
    rows = []
    for gene in sorted(calls):
        row = {"Hugo_Symbol": gene}
        for report in reports:
            sample = str(report["sample"])
            assessed = bool(_input_roles(report) & COPY_NUMBER_INPUT_ROLES)
            row[sample] = calls[gene].get(sample, "0" if assessed else "NA")
        rows.append(row)
    return rows


def _baseline(reports: Sequence[Mapping]) -> dt.date:
    return dt.date.fromisoformat(str(reports[0]["collection_date"]))


def _days(day: object, baseline: dt.date) -> int:
    value = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
    return (value - baseline).days


def _specimen_rows(patients: Mapping[str, list[dict]]) -> list[dict]:
    rows = []
    for patient, reports in patients.items():
        baseline = _baseline(reports)
        for report in reports:
            rows.append(
                {
                    "PATIENT_ID": patient,
                    "START_DATE": str(_days(report["collection_date"], baseline)),
                    "STOP_DATE": "",
                    "EVENT_TYPE": "SPECIMEN",
                    "SAMPLE_ID": report["sample"],
                    "SPECIMEN_TYPE": "Blood (plasma cfDNA)",
                    "TIMEPOINT": report.get("timepoint", ""),
                    **_level_columns(report.get("ctdna_level") or {}),
                }
            )
    return rows


def _treatment_rows(
    patients: Mapping[str, list[dict]], treatments: Sequence[Mapping]
) -> list[dict]:
    rows = []
    for treatment in treatments:
        baseline = _baseline(patients[str(treatment["patient"])])
        end = treatment.get("end_date")
        rows.append(
            {
                "PATIENT_ID": treatment["patient"],
                "START_DATE": str(_days(treatment["start_date"], baseline)),
                "STOP_DATE": "" if end in (None, "") else str(_days(end, baseline)),
                "EVENT_TYPE": "TREATMENT",
                "TREATMENT_TYPE": "Medical Therapy",
                "AGENT": treatment.get("agent", ""),
                "AGENT_CLASS": "anti-EGFR" if treatment.get("anti_egfr") else "other",
                "LINE": treatment.get("line") or "",
                "ONGOING": "Yes" if end in (None, "") else "No",
            }
        )
    rows.sort(key=lambda r: (str(r["PATIENT_ID"]), int(r["START_DATE"]), str(r["AGENT"])))
    return rows
