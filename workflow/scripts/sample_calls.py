from ctdna_resistance.scripting import run_step
from ctdna_resistance.steps import run_sample_calls

run_step(
    snakemake,
    run_sample_calls,
    dict(snakemake.config),
    snakemake.wildcards.sample,
    snakemake.output.alterations,
    snakemake.output.filtered,
    snakemake.output.accounting,
)
