"""A cBioPortal study folder from the per-draw reports (docs.cbioportal.org/file-formats/).

Written: meta_study.txt; clinical patient and sample files (the 5-row header format; the patient
file declares OS/DFS and takes them, with any other patient column, from the clinical sheet);
mutations (MAF, `export.maf`, as per draw); discrete copy number (wide format, genes x samples);
Entrez_Gene_Id and SWISSPROT come from the panel's sourced gene IDs; timeline files for the
plasma specimens and the treatments (START_DATE in days from the patient's baseline draw, so no
calendar date leaves the lab); case lists all, sequenced, cna (required with mutation and
discrete CNA data) and cnaseq. Every file is sorted and has no timestamp. cBioPortal's validator
(validateData.py) accepts the demo's study without a warning (test_cbioportal_validator.py).
Research use only.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ctdna_resistance.clinical_sheet import ClinicalSheet
from ctdna_resistance.errors import InputError
from ctdna_resistance.export.maf import (
    GeneIds,
    draw_maf_rows,
    format_maf_rows,
    gene_id_cells,
    write_maf_header,
)

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
# Columns a clinical sheet may not set: the study writes them (patient- or sample-level).
RESERVED_CLINICAL_COLUMNS = frozenset(a[0] for a in PATIENT_ATTRIBUTES + SAMPLE_ATTRIBUTES)
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
    genes: GeneIds | None = None,
    clinical: ClinicalSheet | None = None,
) -> None:
    """Write a cBioPortal study folder for every patient's per-draw reports.

    `treatments` are dicts with patient, agent, start_date, end_date (None = ongoing), line and
    anti_egfr (see `report.longitudinal.treatment_dicts`); treatments of patients without reports
    are left out, since cBioPortal refuses events of unknown patients. ``genes``: NCBI Gene ID and
    UniProt accession by gene symbol (`panel_gene_ids`); ``clinical``: the clinical sheet.
    """
    with CbioportalStudy(
        outdir,
        study_id=study_id,
        name=name,
        treatments=treatments,
        genome_build=genome_build,
        genes=genes,
        clinical=clinical,
    ) as study:
        for patient in sorted(reports_by_patient):
            study.add_patient(patient, reports_by_patient[patient])


class CbioportalStudy:
    """A cBioPortal study folder written one patient at a time (a cohort of 100,000 patients
    is never in memory at once): ``add_patient`` in patient order inside a ``with`` block; the
    files that need every draw (MAF sorted by sample, the genes x samples CNA table, treatment
    timeline, case lists) are finished when the block ends without error.

    Kept per draw until then: the sample ID, two flags and the draw's MAF lines' place in an
    unnamed temporary file; per patient, the baseline date.
    """

    def __init__(
        self,
        outdir,
        *,
        study_id: str,
        name: str,
        treatments: list[dict],
        genome_build: str,
        genes: GeneIds | None = None,
        clinical: ClinicalSheet | None = None,
    ) -> None:
        if not STUDY_ID_PATTERN.match(study_id or ""):
            raise InputError(
                None,
                f"cBioPortal study id {study_id!r} is not usable",
                "use 1-60 letters, digits or underscores",
            )
        if genome_build not in REFERENCE_GENOMES:
            raise InputError(None, f"genome build {genome_build!r} unknown", "use GRCh38 or GRCh37")
        self.out = out = Path(outdir)
        self.study_id, self.name, self.genome_build = study_id, name, genome_build
        self.treatments = treatments
        # gene symbol -> (NCBI Gene ID, UniProt accession), from the panel
        self._genes = dict(genes or {})
        self._clinical = clinical or ClinicalSheet()
        self._patient_attributes = [
            *PATIENT_ATTRIBUTES,
            *((*attribute, "1") for attribute in self._clinical.attributes),
        ]
        self._treatments_of: dict[str, list[dict]] = {}
        for treatment in treatments:
            self._treatments_of.setdefault(str(treatment.get("patient")), []).append(treatment)
        (out / "case_lists").mkdir(parents=True, exist_ok=True)
        self._samples: list[str] = []
        self._sequenced = bytearray()  # per sample: has small-variant input
        self._assessed = bytearray()  # per sample: has copy-number input
        self._cna_calls: dict[str, dict[int, str]] = {}  # gene -> sample index -> level
        self._maf_parts: list[tuple[str, int, int]] = []  # sample, offset, length in the spool
        self._baselines: dict[str, dt.date] = {}
        self._files = contextlib.ExitStack()  # closed when the `with` block ends
        self._patient_file = self._clinical_file("PATIENT", self._patient_attributes)
        self._sample_file = self._clinical_file("SAMPLE", SAMPLE_ATTRIBUTES)
        self._specimen_file = self._tsv_file(out / "data_timeline_specimen.txt", SPECIMEN_COLUMNS)
        # unnamed: gone however the run ends
        self._maf_spool = self._files.enter_context(tempfile.TemporaryFile(dir=out))  # noqa: SIM115

    def __enter__(self) -> CbioportalStudy:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if kind is None:
                self._finish()
        finally:
            self._files.close()

    def add_patient(self, patient: str, reports: Sequence[Mapping]) -> None:
        """Write one patient's rows; ``reports`` are the patient's per-draw reports."""
        if not reports:
            return
        reports = sorted(
            reports, key=lambda r: (str(r.get("collection_date")), str(r.get("sample")))
        )
        self._baselines[patient] = _baseline(reports)
        treatments = self._treatments_of.get(patient, [])
        self._patient_file.writerow(
            {**_patient_row(patient, reports, treatments), **self._clinical.row(patient)}
        )
        for row in _sample_rows(patient, reports):
            self._sample_file.writerow(row)
        for row in _specimen_rows(patient, reports):
            self._specimen_file.writerow(row)
        for report in reports:
            sample = str(report["sample"])
            index = len(self._samples)
            self._samples.append(sample)
            roles = _input_roles(report)
            self._sequenced.append(bool(roles & SMALL_VARIANT_INPUT_ROLES))
            self._assessed.append(bool(roles & COPY_NUMBER_INPUT_ROLES))
            for gene, level in _cna_calls(report):
                self._cna_calls.setdefault(gene, {})[index] = level
            lines = format_maf_rows(draw_maf_rows(report, self._genes)).encode("utf-8")
            if lines:
                self._maf_parts.append((sample, self._maf_spool.tell(), len(lines)))
                self._maf_spool.write(lines)

    # ------------------------------------------------------------------ files

    def _tsv_file(self, path: Path, columns: Sequence[str]) -> _RowWriter:
        return _RowWriter(self._open(path), columns)

    def _open(self, path: Path):
        """A text file for writing, closed with the others when the `with` block ends."""
        return self._files.enter_context(open(path, "w", encoding="utf-8", newline=""))

    def _clinical_file(self, level: str, attributes: Sequence[tuple]) -> _RowWriter:
        """Meta and data file of clinical attributes, with the four '#' header rows."""
        kind = level.lower()
        _write_meta(
            self.out / f"meta_clinical_{kind}.txt",
            [
                ("cancer_study_identifier", self.study_id),
                ("genetic_alteration_type", "CLINICAL"),
                ("datatype", f"{level}_ATTRIBUTES"),
                ("data_filename", f"data_clinical_{kind}.txt"),
            ],
        )
        handle = self._open(self.out / f"data_clinical_{kind}.txt")
        for field in (1, 2, 3, 4):
            handle.write("#" + "\t".join(attribute[field] for attribute in attributes) + "\n")
        return _RowWriter(handle, [attribute[0] for attribute in attributes])

    def _finish(self) -> None:
        out, study_id = self.out, self.study_id
        _write_meta(
            out / "meta_study.txt",
            [
                ("type_of_cancer", TYPE_OF_CANCER),
                ("cancer_study_identifier", study_id),
                ("name", self.name),
                (
                    "description",
                    "Serial plasma ctDNA draws of patients on anti-EGFR therapy: resistance "
                    "alterations per draw (ctdna-resistance). Research use only.",
                ),
                ("reference_genome", REFERENCE_GENOMES[self.genome_build]),
            ],
        )
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
                # the SWISSPROT column holds UniProtKB accessions (P01116), not names (RASK_HUMAN)
                ("swissprot_identifier", "accession"),
            ],
        )
        self._write_maf(out / "data_mutations.txt")
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
                    "Panel gene copy number from plasma ctDNA. Values: -2 = deep loss; "
                    "0 = no call; 2 = amplification; NA = copy number not assessed in the draw.",
                ),
                ("data_filename", "data_cna.txt"),
            ],
        )
        self._write_cna(out / "data_cna.txt")
        _write_meta(out / "meta_timeline_specimen.txt", _timeline_meta(study_id, "specimen"))
        _write_meta(out / "meta_timeline_treatment.txt", _timeline_meta(study_id, "treatment"))
        own = [t for t in self.treatments if t.get("patient") in self._baselines]
        _write_tsv(
            out / "data_timeline_treatment.txt",
            TREATMENT_COLUMNS,
            _treatment_rows(self._baselines, own),
        )
        self._write_case_lists()

    def _write_maf(self, path: Path) -> None:
        """The draws' MAF lines in sample order (`maf_sort_key` sorts by sample first, and each
        draw's lines are already in that key's order)."""
        with open(path, "w", encoding="utf-8", newline="") as handle:
            write_maf_header(handle)
        with open(path, "ab") as handle:
            for _sample, offset, length in sorted(self._maf_parts, key=lambda part: part[0]):
                self._maf_spool.seek(offset)
                handle.write(self._maf_spool.read(length))

    def _write_cna(self, path: Path) -> None:
        """One row per gene with a copy-number call in any draw; a column per sample.

        A draw whose inputs include copy number gets 0 for a gene it did not call; a draw
        without copy-number input gets NA (not assessed), never a claimed diploid 0.
        """
        default = ["0" if assessed else "NA" for assessed in self._assessed]
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(["Hugo_Symbol", "Entrez_Gene_Id", *self._samples])
            for gene in sorted(self._cna_calls):
                values = list(default)
                for index, level in self._cna_calls[gene].items():
                    values[index] = level
                entrez = gene_id_cells(self._genes, gene)["Entrez_Gene_Id"]
                writer.writerow([_clean(gene), "" if entrez is None else entrez, *values])

    def _write_case_lists(self) -> None:
        samples = self._samples
        sequenced = [s for s, flag in zip(samples, self._sequenced, strict=True) if flag]
        sequenced = sequenced or samples
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
                self.out / "case_lists" / f"cases_{suffix}.txt",
                [
                    ("cancer_study_identifier", self.study_id),
                    ("stable_id", f"{self.study_id}_{suffix}"),
                    ("case_list_name", list_name),
                    ("case_list_description", f"{description} ({len(ids)} samples)"),
                    ("case_list_category", category),
                    ("case_list_ids", "\t".join(ids)),
                ],
            )


class _RowWriter:
    """Rows (dicts) of fixed columns to an open TSV handle, each cell one clean line."""

    def __init__(self, handle, columns: Sequence[str]) -> None:
        self._writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        self._columns = list(columns)
        self._writer.writerow(self._columns)

    def writerow(self, row: Mapping) -> None:
        self._writer.writerow([_clean(row.get(column)) for column in self._columns])


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


def _patient_row(patient: str, reports: Sequence[Mapping], treatments: Sequence[Mapping]) -> dict:
    agents = sorted({str(t["agent"]) for t in treatments if t.get("anti_egfr")})
    mechanisms = sorted(
        {str(m) for r in reports for m in (r.get("resistance") or {}).get("mechanisms", [])}
    )
    emerging = next(
        (r for r in reports if (r.get("resistance") or {}).get("status") == "emerging"), None
    )
    return {
        "PATIENT_ID": patient,
        "N_DRAWS": str(len(reports)),
        "ANTI_EGFR_AGENTS": ";".join(agents) or "NA",
        "LATEST_RESISTANCE_STATUS": (reports[-1].get("resistance") or {}).get("status", "NA"),
        "RESISTANCE_MECHANISMS": ";".join(mechanisms) or "NA",
        "FIRST_EMERGENCE_SAMPLE": emerging["sample"] if emerging else "NA",
    }


def _sample_rows(patient: str, reports: Sequence[Mapping]) -> list[dict]:
    rows = []
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


def _cna_calls(report: Mapping) -> list[tuple[str, str]]:
    """(gene, discrete level) of each copy-number alteration detected in the draw."""
    calls = []
    for alteration in report.get("alterations", []):
        level = CNA_LEVELS.get(str(alteration.get("type")))
        if level and alteration.get("status") == "detected":
            calls.append((str(alteration["gene"]), level))
    return calls


def _baseline(reports: Sequence[Mapping]) -> dt.date:
    return dt.date.fromisoformat(str(reports[0]["collection_date"]))


def _days(day: object, baseline: dt.date) -> int:
    value = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
    return (value - baseline).days


def _specimen_rows(patient: str, reports: Sequence[Mapping]) -> list[dict]:
    baseline = _baseline(reports)
    return [
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
        for report in reports
    ]


def _treatment_rows(baselines: Mapping[str, dt.date], treatments: Sequence[Mapping]) -> list[dict]:
    rows = []
    for treatment in treatments:
        baseline = baselines[str(treatment["patient"])]
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
