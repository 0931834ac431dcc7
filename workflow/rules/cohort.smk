rule cohort_summary:
    input:
        unpack(cohort_inputs),
    output:
        tsv=f"{OUTDIR}/cohort/summary.tsv",
        html=report(
            f"{OUTDIR}/cohort/summary.html",
            caption="../report/cohort_summary.rst",
            category="Cohort",
        ),
        cbioportal=directory(f"{OUTDIR}/cohort/cbioportal"),
        # MultiQC custom content: `multiqc <outdir>` shows a ctdna-resistance section
        multiqc=f"{OUTDIR}/cohort/ctdna_resistance_mqc.tsv",
    log:
        f"{OUTDIR}/logs/cohort_summary.log",
    conda:
        "../envs/ctdna_resistance.yaml"
    threads: 1
    resources:
        # measured: 3.1 s and 178 MB for 500 patients x 6 draws (demo: ~1.5 s, ~120 MB), about
        # 0.1 MB more per patient; a retry asks for more
        mem_mb=lambda wildcards, attempt: 500 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        # the patients' rows, not their files (why: rerun_fingerprint.cohort_fingerprint)
        fingerprint=lambda wildcards: cohort_fingerprint(
            patient_rows(p) for p in COHORT.patients
        ),
        patients_dir=f"{OUTDIR}/patients",
    # through the patient jobs' worker (common.smk: COHORT_COMMAND)
    shell:
        COHORT_COMMAND
