"""The workflow's steps: read inputs, call the science, write outputs (atomically).

Each step is what one Snakemake rule runs and what one `ctdna-resistance` subcommand runs.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from ctdna_resistance.background import error_model
from ctdna_resistance.calls import (
    call_sample,
    detection_settings,
    read_sample_copy_number,
    write_sample_calls,
)
from ctdna_resistance.clinical_sheet import read_clinical_sheet
from ctdna_resistance.clone_tracking import track_clones, write_clones
from ctdna_resistance.codon_screens import screen_sites
from ctdna_resistance.cohort import SUMMARY_COLUMNS, summary_row
from ctdna_resistance.copy_number import gene_copy_number_by_draw
from ctdna_resistance.ctdna_level import draw_levels
from ctdna_resistance.errors import InputError
from ctdna_resistance.export.cbioportal import RESERVED_CLINICAL_COLUMNS, CbioportalStudy
from ctdna_resistance.export.maf import draw_maf_rows, panel_gene_ids, write_maf
from ctdna_resistance.export.multiqc import MultiqcTable
from ctdna_resistance.outputs import atomic_outputs
from ctdna_resistance.panel import load_panel, load_prepared_panel, prepare_panel
from ctdna_resistance.report.build import build_draw_reports
from ctdna_resistance.report.cohort_html import CohortPage
from ctdna_resistance.report.html import render_draw_report
from ctdna_resistance.report.longitudinal import render_longitudinal, treatment_dicts
from ctdna_resistance.samplesheet import (
    DEFAULT_ANTI_EGFR,
    Treatment,
    read_cohort,
    read_treatment_timeline,
)
from ctdna_resistance.schemas import schema_errors
from ctdna_resistance.sheet_index import read_sheet_draws
from ctdna_resistance.tables import write_tsv
from ctdna_resistance.tracking import (
    DrawData,
    clone_marker_sites,
    gather_evidence,
    track_patient,
    write_timeline,
)


def genotype_settings(config: dict):
    """Read filters for BAM re-genotyping from the config's `genotyping` block."""
    from ctdna_resistance.genotype import GenotypeSettings

    return GenotypeSettings(**(config.get("genotyping") or {}))


def _dump_json(data, path) -> None:
    # dumps, then one write: json.dump writes each of a report's ~20,000 pieces on its own
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    with open(path, "w") as handle:
        handle.write(text + "\n")


def run_sample_calls(config: dict, sample_id: str, alterations, filtered, accounting) -> None:
    """SPEC 5.1 for one sample: alterations.tsv, filtered.tsv, accounting.json."""
    cohort = read_cohort(config["samples"], config.get("treatments") or None)
    panel = load_panel(config["panel"], config["genome_build"])
    calls = call_sample(cohort.sample(sample_id), panel, config)
    if not calls.accounting["reconciles"]:
        raise RuntimeError(f"accounting does not reconcile for {sample_id}: {calls.accounting}")
    with atomic_outputs(alterations, filtered, accounting) as tmp:
        write_sample_calls(calls, *tmp)


DRAW_TABLES = ("alterations.tsv", "filtered.tsv", "accounting.json")


def draw_tables(samples_dir, sample: str) -> tuple[Path, Path, Path]:
    """A draw's three tables in a patient's ``samples`` folder: ``{sample}/alterations.tsv`` ..."""
    folder = Path(samples_dir) / sample
    return tuple(folder / name for name in DRAW_TABLES)


@dataclass(frozen=True)
class PatientOutputs:
    """Where one patient's job writes: the draws' tables (one folder per draw under ``samples``),
    the timeline, the clones, the longitudinal page and the per-draw reports."""

    samples: Path  # samples/{sample}/alterations.tsv, filtered.tsv, accounting.json
    timeline: Path
    reports: Path
    longitudinal: Path
    clones: Path

    @classmethod
    def under(cls, outdir, patient: str) -> PatientOutputs:
        """The standard layout (README, Outputs) under ``outdir``: all in ``patients/{patient}``."""
        folder = Path(outdir) / "patients" / patient
        return cls(
            folder / "samples",
            folder / "timeline.tsv",
            folder / "reports",
            folder / "longitudinal.html",
            folder / "clones.tsv",
        )


def run_background(config: dict, table) -> Path:
    """Issue 20: the background table of the config's `normals` sheet, written to ``table``
    (background.tsv.gz) and its .tbi, all-or-nothing."""
    import shutil
    import tempfile

    from ctdna_resistance.background_build import build_background

    normals = config.get("normals")
    reference = config.get("reference_fasta") or config.get("reference")
    if not normals:
        raise InputError(
            None, "no normals sheet given", "pass --normals NORMALS.tsv (or set normals)"
        )
    if not reference:
        raise InputError(
            normals,
            "a background needs the reference FASTA for trinucleotide contexts",
            "pass --reference REF.fa (or set reference_fasta)",
        )
    panel = load_panel(config["panel"], config["genome_build"])
    table = Path(table)
    table.parent.mkdir(parents=True, exist_ok=True)
    with (
        atomic_outputs(table, f"{table}.tbi") as tmp,
        tempfile.TemporaryDirectory(dir=table.parent) as work,
    ):
        written = build_background(
            normals,
            reference,
            work,
            panel,
            extra_bed=config.get("background_bed") or None,
            genotype_settings=genotype_settings(config),
            fit_settings=config.get("background_fit") or None,
        )
        shutil.move(written, tmp[0])
        shutil.move(f"{written}.tbi", tmp[1])
    return table


def run_prepare_panel(config: dict, out, settings_out, settings: dict) -> None:
    """The config's panel, validated once and written as JSON for the patient jobs, and the
    run's ``settings`` (the config a patient job reads) as JSON."""
    with atomic_outputs(out, settings_out) as tmp:
        prepare_panel(config["panel"], tmp[0])
        tmp[1].write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n")


def run_patient(config: dict, patient: str, outputs: PatientOutputs, prepared_panel=None) -> None:
    """All of one patient's draws: per-sample calls, tracking, per-draw reports (one job).

    ``prepared_panel`` is the workflow's JSON of the panel (run_prepare_panel); without it the
    panel YAML of the config is read and validated here.
    """
    cohort = read_cohort(config["samples"], config.get("treatments") or None, patient)
    if prepared_panel:
        panel = load_prepared_panel(prepared_panel, config["genome_build"])
    else:
        panel = load_panel(config["panel"], config["genome_build"])
    samples = cohort.samples_of(patient)
    if not samples:
        raise InputError(config["samples"], f"no samples of patient {patient!r}", "check the ID")
    # every draw's copy number overlapped with the panel genes in one join (copy_number.py);
    # so a bad copy-number file of any draw is refused before the first draw's VCF is read
    read = {s.sample: read_sample_copy_number(s, panel, config) for s in samples if s.cnv}
    genes = gene_copy_number_by_draw([cn.segments for cn in read.values()], panel)
    copy_number = {name: (cn, found) for (name, cn), found in zip(read.items(), genes, strict=True)}
    # the background table (or the scalar error) once for all draws: each site is looked up once
    errors = error_model(config, detection_settings(config), panel)
    calls = []
    for sample in samples:
        result = call_sample(sample, panel, config, copy_number.get(sample.sample), errors)
        if not result.accounting["reconciles"]:
            raise RuntimeError(f"accounting does not reconcile for {sample.sample}")
        calls.append(result)
    final = [
        str(outputs.samples).rstrip("/") + "/",
        outputs.timeline,
        outputs.clones,
        outputs.longitudinal,
        str(outputs.reports).rstrip("/") + "/",
    ]
    with atomic_outputs(*final) as tmp:
        draws = []
        for result in calls:
            paths = draw_tables(tmp[0], result.sample.sample)
            paths[0].parent.mkdir()
            write_sample_calls(result, *paths)
            draws.append(DrawData.read(result.sample, *paths))
        # the patient's clone markers (SPEC 5.6), once: re-genotyped with the panel sites, then
        # clustered with them (no clone analysis without a detected panel small variant)
        markers = clone_marker_sites(draws)
        gather_evidence(
            draws,
            markers,
            # pysam is imported only for patients with BAMs
            genotype_settings(config) if any(s.bam for s in samples) else None,
            reference=config.get("reference") or None,
            build=panel.build,
            screen_sites=screen_sites(draws, panel),
        )
        series = track_patient(draws, config, errors)
        agents = config.get("anti_egfr_agents") or DEFAULT_ANTI_EGFR
        treatments = cohort.treatments_of(patient)
        clones = track_clones(
            series, draws, markers, treatments, detection_settings(config), agents
        )
        levels = draw_levels(
            draws, series, markers, errors, detection_settings(config), config.get("ctdna_level")
        )
        reports = build_draw_reports(
            patient, draws, series, panel, treatments, agents, clones, levels
        )
        for report in reports:
            problems = schema_errors(report, "report")
            if problems:
                raise RuntimeError(
                    f"report for {report['sample']} breaks its schema: {problems[0]}"
                )
        write_timeline(tmp[-4], patient, series, draws[0].sample.collection_date)
        write_clones(tmp[-3], patient, clones, draws)
        tmp[-2].write_text(
            render_longitudinal(patient, reports, treatment_dicts(treatments, agents))
        )
        # Entrez_Gene_Id and SWISSPROT from the panel, as in the cohort's cBioPortal MAF
        genes = panel_gene_ids(panel)
        for report in reports:
            _dump_json(report, tmp[-1] / f"{report['sample']}.json")
            (tmp[-1] / f"{report['sample']}.html").write_text(render_draw_report(report))
            write_maf(tmp[-1] / f"{report['sample']}.maf", draw_maf_rows(report, genes))


def run_cohort(
    config: dict,
    patients_dir,
    summary_tsv,
    summary_html,
    cbioportal_dir,
    multiqc_tsv=None,
) -> None:
    """Cohort summary (TSV + HTML), a cBioPortal study and a MultiQC custom-content table
    (``multiqc_tsv``, when given) from every patient's reports, in
    ``<patients_dir>/<patient>/reports/`` (what rule patient writes)."""
    # The sheet and timeline were validated when the run started (or by `cmd_cohort`): read
    # lean, since a Sample per draw of a 600,000-draw cohort is some 900 MB (issue 19).
    samples_of = read_sheet_draws(config["samples"])
    timeline: list[Treatment] = []
    treatments_of: dict[str, list[Treatment]] = {}
    treatments_skipped: dict[str, int] = {}
    if config.get("treatments"):
        timeline, treatments_skipped = read_treatment_timeline(
            config["treatments"], set(samples_of)
        )
        for treatment in timeline:
            treatments_of.setdefault(treatment.patient, []).append(treatment)
    if treatments_skipped:  # a lab's one timeline may cover more patients than the sheet
        print(
            f"treatments: skipped {sum(treatments_skipped.values())} row(s) of "
            f"{len(treatments_skipped)} patient(s) not in the sample sheet: "
            f"{', '.join(treatments_skipped)}",
            file=sys.stderr,
        )
    clinical = None
    if config.get("clinical"):
        clinical = read_clinical_sheet(
            config["clinical"], set(samples_of), RESERVED_CLINICAL_COLUMNS
        )
        if clinical.skipped:  # like the timeline, a lab's one sheet may cover more patients
            print(
                f"clinical: skipped {sum(clinical.skipped.values())} row(s) of patient(s) not in "
                f"the sample sheet: {', '.join(clinical.skipped)}",
                file=sys.stderr,
            )
    genes = panel_gene_ids(load_panel(config["panel"], config["genome_build"]))
    agents = config.get("anti_egfr_agents") or DEFAULT_ANTI_EGFR
    study = config.get("cbioportal_study_id") or "ctdna_resistance"
    treatments = treatment_dicts(timeline, agents)
    outputs = [summary_tsv, summary_html, str(cbioportal_dir).rstrip("/") + "/"]
    with atomic_outputs(*outputs, *([multiqc_tsv] if multiqc_tsv else [])) as tmp:
        # One patient's reports in memory at a time (issue 19): each writer takes its part.
        page = CohortPage()
        multiqc = MultiqcTable(tmp[3]) if multiqc_tsv else None
        try:
            with CbioportalStudy(
                tmp[2],
                study_id=study,
                name=f"ctdna-resistance serial plasma cohort ({study})",
                treatments=treatments,
                genome_build=config["genome_build"],
                genes=genes,
                clinical=clinical,
            ) as cbioportal:

                def summary_rows():
                    for patient in sorted(samples_of):
                        folder = Path(patients_dir, patient, "reports")
                        reports = [
                            json.loads((folder / f"{sample}.json").read_text())
                            for sample in samples_of[patient]
                        ]
                        row = summary_row(patient, reports, treatments_of.get(patient, []), agents)
                        page.add(row, reports)
                        cbioportal.add_patient(patient, reports)
                        if multiqc:
                            multiqc.add(reports)
                        yield row

                write_tsv(tmp[0], SUMMARY_COLUMNS, summary_rows())
        finally:
            if multiqc:
                multiqc.close()
        tmp[1].write_text(page.render(treatments_skipped, clinical.skipped if clinical else None))
