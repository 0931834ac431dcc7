import pandas as pd
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from ctdna_resistance.config import with_defaults
from ctdna_resistance.errors import InputError
from ctdna_resistance.samplesheet import read_cohort

ID_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"


validate(config, schema="../schemas/config.schema.yaml")
config.update(with_defaults(config))
if not config.get("treatments"):
    config["treatments"] = None

try:
    COHORT = read_cohort(config["samples"], config["treatments"])
except InputError as error:
    raise WorkflowError(error.message) from None

validate(
    pd.read_csv(
        config["samples"], sep="\t", dtype=str, keep_default_na=False, comment="#"
    ),
    schema="../schemas/samples.schema.yaml",
)

OUTDIR = config["outdir"].rstrip("/")
SAMPLES = {s.sample: s for s in COHORT.samples}


wildcard_constraints:
    sample=ID_PATTERN,
    patient=ID_PATTERN,


def workflow_config_files():
    """Files whose content changes every output: the sample sheet, treatments, panel."""
    files = {"samples": config["samples"], "panel": config["panel"]}
    if config["treatments"]:
        files["treatments"] = config["treatments"]
    return files


def sample_inputs(wildcards):
    """The sample's own input files, by role, plus the files every step reads."""
    sample = SAMPLES[wildcards.sample]
    files = {role: str(path) for role, path in sample.inputs().items()}
    return {**files, **workflow_config_files()}


def sample_dir(sample):
    return f"{OUTDIR}/samples/{sample}"


def patient_inputs(wildcards):
    samples = [s.sample for s in COHORT.samples_of(wildcards.patient)]
    files = {
        f"{kind}_{s}": f"{sample_dir(s)}/{kind}.{ext}"
        for s in samples
        for kind, ext in (
            ("alterations", "tsv"),
            ("filtered", "tsv"),
            ("accounting", "json"),
        )
    }
    return {**files, **workflow_config_files()}


def cohort_inputs(wildcards):
    files = {f"reports_{p}": f"{OUTDIR}/patients/{p}/reports" for p in COHORT.patients}
    return {**files, **workflow_config_files()}


def all_outputs():
    outputs = [f"{OUTDIR}/cohort/summary.tsv", f"{OUTDIR}/cohort/summary.html"]
    for patient in COHORT.patients:
        outputs.append(f"{OUTDIR}/patients/{patient}/timeline.tsv")
        outputs.append(f"{OUTDIR}/patients/{patient}/reports")
    for sample in SAMPLES:
        outputs.append(f"{sample_dir(sample)}/alterations.tsv")
    return outputs
