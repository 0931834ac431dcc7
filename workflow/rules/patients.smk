# The panel YAML is parsed and validated once per run; each patient job reads its JSON (~5 ms
# instead of ~0.2 s of YAML parsing and schema validation in every job, issue 6). Beside it, the
# settings every patient job reads (the resolved config without the sheet paths): a changed
# setting re-runs this job, and so every patient.
rule prepare_panel:
    input:
        **workflow_config_files(),
    output:
        panel=PREPARED_PANEL,
        settings=PATIENT_SETTINGS_FILE,
    log:
        f"{OUTDIR}/logs/prepare_panel.log",
    conda:
        "../envs/ctdna_resistance.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 500 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        settings=PATIENT_SETTINGS,
    script:
        "../scripts/prepare_panel.py"


# One job per patient: all of a patient's draws are called, tracked and reported together, since a
# job costs ~0.4 CPU-s of interpreter start-up before it does anything (issue 6). A new draw of one
# patient re-runs that patient's job and the cohort summary only (its rows are a param). One
# wildcard rule, not one rule per patient: Snakemake asks every rule whether it makes each file,
# so a rule per patient made planning grow with the square of the cohort (issue 19). Each draw's
# tables are in the patient's samples/ folder, as a {patient} rule cannot list them by {sample}.
# The draws' files are not inputs: a digest of them and of the patient's rows is a param
# (fingerprint, common.smk), so an edited row or file re-runs the job.
rule patient:
    input:
        **PATIENT_INPUTS,
    output:
        samples=directory(f"{OUTDIR}/patients/{{patient}}/samples"),
        timeline=f"{OUTDIR}/patients/{{patient}}/timeline.tsv",
        clones=f"{OUTDIR}/patients/{{patient}}/clones.tsv",
        longitudinal=report(
            f"{OUTDIR}/patients/{{patient}}/longitudinal.html",
            caption="../report/longitudinal.rst",
            category="Patients",
            subcategory="{patient}",
        ),
        reports=report(
            directory(f"{OUTDIR}/patients/{{patient}}/reports"),
            patterns=["{name}.html"],
            caption="../report/draw_report.rst",
            category="Per-draw reports",
            subcategory="{patient}",
        ),
    log:
        f"{OUTDIR}/logs/patients/{{patient}}.log",
    # SLURM: the profile's group-components submits patients in groups (ignored locally)
    group:
        "patients"
    conda:
        "../envs/ctdna_resistance.yaml"
    threads: 1
    resources:
        # measured on the demo: ~120 MB and ~1.5 s per patient job (mostly interpreter
        # start-up), flat in the number of draws; a retry asks for more. A group job of the
        # SLURM profile asks for the runtime of its rounds summed: 15 rounds x 2 min.
        mem_mb=lambda wildcards, attempt: 500 * attempt,
        runtime=lambda wildcards, attempt: 2 * attempt,
    params:
        fingerprint=lambda wildcards: fingerprint(wildcards.patient),
    # worker_client hands the job to a long-lived worker that paid the imports once; a child of
    # it runs the job (CTDNA_RESISTANCE_WORKER=off: a fresh interpreter per job; same outputs)
    shell:
        PATIENT_COMMAND
