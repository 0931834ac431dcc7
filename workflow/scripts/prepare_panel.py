from ctdna_resistance.scripting import run_step
from ctdna_resistance.steps import run_prepare_panel

run_step(
    snakemake,
    run_prepare_panel,
    dict(snakemake.config),
    snakemake.output.panel,
    snakemake.output.settings,
    snakemake.params.settings,
)
