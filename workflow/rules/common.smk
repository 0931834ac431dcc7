import functools
import os
import sys
from pathlib import Path

from snakemake_interface_executor_plugins.settings import DeploymentMethod

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

from ctdna_resistance.background import BackgroundTable
from ctdna_resistance.clinical_sheet import read_clinical_sheet
from ctdna_resistance.config import (
    demo_file,
    resolve_repo_paths,
    validate_config,
    with_demo,
)
import ctdna_resistance.worker_client
from ctdna_resistance.errors import InputError
from ctdna_resistance.export.cbioportal import RESERVED_CLINICAL_COLUMNS
from ctdna_resistance.long_lived import long_lived
from ctdna_resistance.panel import load_panel
from ctdna_resistance.rerun_fingerprint import (
    cohort_fingerprint,
    patient_fingerprint,
    rows_text,
)
from ctdna_resistance.samplesheet import read_cohort, read_normals_sheet
from ctdna_resistance.snakemake_scheduling import drop_local_rate_limit

ID_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"


# The product's own checks first, so a bad config, sheet or panel stops before any job with one
# line naming the file, what is wrong and what to do (the panel is otherwise read only in jobs).
REPO = Path(workflow.basedir)
# this Snakefile parsed again by the Snakemake of a job (on a cluster node, or a subprocess job),
# not by the run that plans: it need not look at the cohort's files
IN_A_JOB = workflow.remote_exec or workflow.subprocess_exec
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
        config["treatments"] = ""  # none (a string: the patient command passes it on)
    # In a job, the run that planned checked every file of the sheet: a node's Snakemake looks
    # at its own patients' files only (their fingerprint, below). The sheet's rows live as long
    # as this process: out of the garbage collector's way (long_lived.py).
    with long_lived():
        COHORT = read_cohort(
            config["samples"], config["treatments"], check_files=not IN_A_JOB
        )
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
    if config.get("clinical"):
        # a bad clinical sheet stops the run here, not at the cohort step after every patient
        read_clinical_sheet(
            config["clinical"], set(COHORT.patients), RESERVED_CLINICAL_COLUMNS
        )
except InputError as error:
    raise WorkflowError(error.message) from None

# Snakemake's validator on the config's schema, as the workflow catalog does. The sample sheet's
# rows were each checked against samples.schema.yaml by read_cohort (with the line number); a
# second pass through Snakemake's validator cost 10 s at 60,000 rows (issue 19).
validate(config, schema="../schemas/config.schema.yaml")

OUTDIR = config["outdir"].rstrip("/")

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
    patient's rows only (see fingerprint), so adding a draw to one patient re-runs one job.
    """
    return {"panel": config["panel"]}


# each patient's rows, looked up per job: a scan of the whole sheet per patient would make
# planning grow with the square of the cohort (issue 19)
SAMPLES_OF = {}
for _sample in COHORT.samples:
    SAMPLES_OF.setdefault(_sample.patient, []).append(_sample)
TREATMENTS_OF = {}
for _treatment in COHORT.treatments:
    TREATMENTS_OF.setdefault(_treatment.patient, []).append(_treatment)


def samples_of(patient):
    """The patient's draws, in sheet order; an ID not in the sheet is refused (no job for it)."""
    if patient not in SAMPLES_OF:
        raise WorkflowError(
            f"{config['samples']}: no patient {patient!r} in the sample sheet; "
            "ask only for outputs of the sheet's patients"
        )
    return SAMPLES_OF[patient]


@functools.cache  # the patient's job and the cohort job ask
def patient_rows(patient):
    """The patient's sample-sheet and treatment rows as text (rerun_fingerprint.rows_text)."""
    return rows_text(samples_of(patient), TREATMENTS_OF.get(patient, []))


@functools.cache  # planning asks more than once per job
def fingerprint(patient):
    """The digest of the patient's rows and draw files: a change re-runs its job (params).

    Why the draw files are not the job's inputs: ctdna_resistance/rerun_fingerprint.py.
    """
    try:
        return patient_fingerprint(
            patient_rows(patient), samples_of(patient), COHORT.stamps
        )
    except InputError as error:
        raise WorkflowError(error.message) from None


PREPARED_PANEL = f"{OUTDIR}/panel/panel.json"
PATIENT_SETTINGS_FILE = f"{OUTDIR}/panel/settings.json"
# What a patient job reads of the config (written once per run by prepare_panel): all of it but
# the sheets' paths and where this run writes (outdir, the background it builds there), which the
# job gets through its command (below). The sheets' paths are left out so that pointing the run at an
# edited copy of the sheet re-runs only the patients whose rows changed; the run's own folder so
# that the same inputs give the same settings file wherever the results go.
SHEET_KEYS = ("samples", "treatments", "clinical", "outdir", "background")
PATIENT_SETTINGS = {k: v for k, v in config.items() if k not in SHEET_KEYS}

# The patient job's command: a client that runs on the standard library alone (python -S) and
# hands the job to the worker (ctdna_resistance/worker_client.py). Snakemake re-runs a job whose
# command text changed ("code"), so the text holds no path that may change between runs: the
# interpreter (Snakemake's own, or the conda environment's, as for script:), the client and the
# sheets' paths reach the job through the environment set here (in every Snakemake process,
# local or on a cluster node). They are not params either: no provenance of results, and a
# changed path must not re-run every patient. "$VAR" in the shell is one word, never re-parsed.
os.environ.update(
    CTDNA_RESISTANCE_PYTHON=(
        "python"
        if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
        else sys.executable
    ),
    CTDNA_RESISTANCE_CLIENT=ctdna_resistance.worker_client.__file__,
    CTDNA_RESISTANCE_SAMPLES=str(config["samples"]),
    CTDNA_RESISTANCE_TREATMENTS=str(config["treatments"]),
)
PATIENT_COMMAND = (
    '"$CTDNA_RESISTANCE_PYTHON" -S "$CTDNA_RESISTANCE_CLIENT" patient'
    " --patient {wildcards.patient}"
    " --settings {input.settings:q} --panel {input.prepared_panel:q}"
    ' --samples "$CTDNA_RESISTANCE_SAMPLES" --treatments "$CTDNA_RESISTANCE_TREATMENTS"'
    + (" --background {input.background:q}" if BACKGROUND else "")
    + " --log {log:q} --draws-dir {output.samples:q}"
    " --timeline {output.timeline:q} --clones {output.clones:q}"
    " --longitudinal {output.longitudinal:q} --reports-dir {output.reports:q}"
)
# the cohort job, the same way (once per run; it ran as script: and paid ~0.8 s of imports)
COHORT_COMMAND = (
    '"$CTDNA_RESISTANCE_PYTHON" -S "$CTDNA_RESISTANCE_CLIENT" cohort'
    " --settings {input.settings:q}"
    ' --samples "$CTDNA_RESISTANCE_SAMPLES" --treatments "$CTDNA_RESISTANCE_TREATMENTS"'
    + (" --clinical {input.clinical:q}" if config.get("clinical") else "")
    + " --patients-dir {params.patients_dir:q} --log {log:q}"
    " --tsv {output.tsv:q} --html {output.html:q}"
    " --cbioportal {output.cbioportal:q} --multiqc {output.multiqc:q}"
)


# A patient job's inputs: what the workflow makes for it. Its draws' files are in its params'
# fingerprint instead (why: ctdna_resistance/rerun_fingerprint.py).
PATIENT_INPUTS = {
    **({"background": BACKGROUND} if BACKGROUND else {}),
    "prepared_panel": PREPARED_PANEL,
    "settings": PATIENT_SETTINGS_FILE,
}


def patient_dir(patient):
    return f"{OUTDIR}/patients/{patient}"


def cohort_inputs(wildcards):
    files = {f"reports_{p}": f"{patient_dir(p)}/reports" for p in COHORT.patients}
    if config.get("clinical"):
        files["clinical"] = config[
            "clinical"
        ]  # an edited clinical sheet re-runs the study
    # the run's settings, which the cohort job reads (study ID, agents, genome build)
    return {**files, **workflow_config_files(), "settings": PATIENT_SETTINGS_FILE}


def patient_outputs(patient):
    folder = patient_dir(patient)
    return [
        f"{folder}/samples",
        f"{folder}/timeline.tsv",
        f"{folder}/clones.tsv",
        f"{folder}/reports",
        f"{folder}/longitudinal.html",
    ]


def all_outputs():
    """The cohort's outputs, and any output of a patient's earlier run that has gone missing.

    The cohort job needs every patient's reports, so it brings in every patient's job; but
    Snakemake re-runs a job only for the outputs some target needs, so a patient's deleted
    timeline.tsv is asked for here. Naming all five outputs of every patient made planning look
    up 50,000 more files at 10,000 patients (issue 19); a patient without a folder yet has no
    output to lose (its job runs for the cohort).
    """
    outputs = [
        f"{OUTDIR}/cohort/summary.tsv",
        f"{OUTDIR}/cohort/summary.html",
        f"{OUTDIR}/cohort/cbioportal",
        f"{OUTDIR}/cohort/ctdna_resistance_mqc.tsv",
    ]
    if IN_A_JOB:
        return outputs  # a job's Snakemake runs the jobs it was given
    for patient in COHORT.patients:
        if os.path.isdir(patient_dir(patient)):
            outputs += [f for f in patient_outputs(patient) if not os.path.exists(f)]
    return outputs


# Local runs: no job-rate limit, the cores bound the jobs (why: snakemake_scheduling.py)
onstart:
    drop_local_rate_limit(workflow, logger)
