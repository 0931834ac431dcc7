from ctdna_resistance.scripting import run_step
from ctdna_resistance.steps import run_cohort

run_step(
    snakemake,
    run_cohort,
    dict(snakemake.config),
    snakemake.params.report_dirs,
    snakemake.output.tsv,
    snakemake.output.html,
    snakemake.output.cbioportal,
    snakemake.output.multiqc,
)
