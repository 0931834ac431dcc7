from ctdna_resistance.scripting import run_step
from ctdna_resistance.steps import PatientOutputs, run_patient

run_step(
    snakemake,
    run_patient,
    dict(snakemake.config),
    snakemake.wildcards.patient,
    PatientOutputs(
        snakemake.output.samples,
        snakemake.output.timeline,
        snakemake.output.reports,
        snakemake.output.longitudinal,
        snakemake.output.clones,
    ),
    snakemake.input.prepared_panel,
)
