from ctdna_resistance.scripting import run_step
from ctdna_resistance.steps import run_patient

run_step(
    snakemake,
    run_patient,
    dict(snakemake.config),
    snakemake.wildcards.patient,
    snakemake.params.sample_dirs,
    snakemake.output.timeline,
    snakemake.output.reports,
)
