from ctdna_resistance.scripting import run_step
from ctdna_resistance.steps import run_background

run_step(snakemake, run_background, dict(snakemake.config), snakemake.output.table)
