import dataclasses
from pathlib import Path

import pandas as pd
from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

from ctdna_resistance.background import BackgroundTable
from ctdna_resistance.config import (
    demo_file,
    resolve_repo_paths,
    validate_config,
    with_demo,
)
from ctdna_resistance.errors import InputError
from ctdna_resistance.panel import load_panel
from ctdna_resistance.samplesheet import (
    patient_rule_names,
    read_cohort,
    read_normals_sheet,
)

ID_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"


# The product's own checks first, so a bad config, sheet or panel stops before any job with one
# line naming the file, what is wrong and what to do (the panel is otherwise read only in jobs).
REPO = Path(workflow.basedir)
DEFAULT_CONFIG = REPO / "config" / "config.yaml"
try:
    if not config.get("samples"):
        logger.info(
            f"no `samples` given: running the demo ({demo_file(DEFAULT_CONFIG)})"
        )
    config.update(resolve_repo_paths(with_demo(config, DEFAULT_CONFIG), REPO))
    config.update(
        validate_config(
            config, ", ".join(str(f) for f in workflow.configfiles) or "--config"
        )
    )
    if not config.get("treatments"):
        config["treatments"] = None
    COHORT = read_cohort(config["samples"], config["treatments"])
    if COHORT.treatments_skipped:
        skipped = COHORT.treatments_skipped
        logger.info(
            f"treatments: skipped {sum(skipped.values())} row(s) of {len(skipped)} "
            f"patient(s) not in the sample sheet: {', '.join(skipped)}"
        )
    PANEL = load_panel(config["panel"], config["genome_build"])
    if config.get("background") and not config.get("normals"):
        # a ready table of another build or panel is refused here, not in every patient job
        BackgroundTable(
            config["background"],
            build=config["genome_build"],
            panel_regions=PANEL.small_variant_regions(),
        )
except InputError as error:
    raise WorkflowError(error.message) from None

# Snakemake's validator on the same schemas, as the workflow catalog does.
validate(config, schema="../schemas/config.schema.yaml")
validate(
    pd.read_csv(
        config["samples"], sep="\t", dtype=str, keep_default_na=False, comment="#"
    ),
    schema="../schemas/samples.schema.yaml",
)

OUTDIR = config["outdir"].rstrip("/")
SAMPLES = {s.sample: s for s in COHORT.samples}

# The background table (issue 20): a ready one from the config, or built from its normals sheet
# by the background rule; none: the scalar detection.background_error.
BUILD_BACKGROUND = bool(config.get("normals")) and not config.get("background")
try:
    NORMAL_BAMS = (
        [str(bam) for _, bam in read_normals_sheet(config["normals"])]
        if BUILD_BACKGROUND
        else []
    )
    if BUILD_BACKGROUND and not (
        config.get("reference_fasta") or config.get("reference")
    ):
        raise InputError(
            config["normals"],
            "a background built from normals needs the reference FASTA",
            "set reference_fasta (config/README.md)",
        )
except InputError as error:
    raise WorkflowError(error.message) from None
BACKGROUND = (
    f"{OUTDIR}/background/background.tsv.gz"
    if BUILD_BACKGROUND
    else (config.get("background") or None)
)
if BACKGROUND:
    # what the patient jobs read (background.error_model)
    config["background"] = BACKGROUND


wildcard_constraints:
    sample=ID_PATTERN,
    patient=ID_PATTERN,


def workflow_config_files():
    """Files whose change re-runs every job: the panel.

    The sample sheet and the treatment timeline are not inputs: a patient's job depends on that
    patient's rows only (see patient_rows), so adding a draw to one patient re-runs one job.
    """
    return {"panel": config["panel"]}


def patient_rows(patient):
    """The patient's sample-sheet and treatment rows as text: a change re-runs its job (params)."""
    # the sheet's line number is left out: rows added above must not re-run other patients
    samples = [repr(dataclasses.replace(s, row=0)) for s in COHORT.samples_of(patient)]
    treatments = [repr(t) for t in COHORT.treatments_of(patient)]
    return "\n".join(samples + treatments)


PATIENT_RULE_NAMES = patient_rule_names(COHORT.patients)


PREPARED_PANEL = f"{OUTDIR}/panel/panel.json"


def patient_inputs(patient):
    """Every input file of the patient's draws, by role and sample, plus the prepared panel."""
    files = {
        f"{role}_{s.sample}": str(path)
        for s in COHORT.samples_of(patient)
        for role, path in s.inputs().items()
    }
    if BACKGROUND:
        files["background"] = BACKGROUND
    return {**files, "prepared_panel": PREPARED_PANEL}


def sample_dir(sample):
    return f"{OUTDIR}/samples/{sample}"


def sample_outputs(patient, name):
    """One per-sample output file (alterations.tsv ...) for each of the patient's draws."""
    return [f"{sample_dir(s.sample)}/{name}" for s in COHORT.samples_of(patient)]


def cohort_inputs(wildcards):
    files = {f"reports_{p}": f"{OUTDIR}/patients/{p}/reports" for p in COHORT.patients}
    return {**files, **workflow_config_files()}


def all_outputs():
    outputs = [
        f"{OUTDIR}/cohort/summary.tsv",
        f"{OUTDIR}/cohort/summary.html",
        f"{OUTDIR}/cohort/cbioportal",
        f"{OUTDIR}/cohort/ctdna_resistance_mqc.tsv",
    ]
    for patient in COHORT.patients:
        outputs.append(f"{OUTDIR}/patients/{patient}/timeline.tsv")
        outputs.append(f"{OUTDIR}/patients/{patient}/reports")
        outputs.append(f"{OUTDIR}/patients/{patient}/longitudinal.html")
    for sample in SAMPLES:
        outputs.append(f"{sample_dir(sample)}/alterations.tsv")
    return outputs
