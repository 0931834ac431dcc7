from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/background.smk"
include: "workflow/rules/patients.smk"
include: "workflow/rules/cohort.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
