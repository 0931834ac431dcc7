from snakemake.utils import min_version

min_version("9.0")


# The defaults, found wherever snakemake runs; they name no patient data. Without `samples` (from
# --config or another --configfile) the run is the demo's (config/demo.yaml: common.smk).
configfile: f"{workflow.basedir}/config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/background.smk"
include: "workflow/rules/patients.smk"
include: "workflow/rules/cohort.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
