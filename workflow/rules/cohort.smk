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
    log:
        f"{OUTDIR}/logs/cohort_summary.log",
    conda:
        "../envs/ctdna_resistance.yaml"
    threads: 1
    resources:
        # measured on the demo: ~120 MB and ~1.5 s per patient job (mostly interpreter start-up),
        # flat in the number of draws; a retry asks for more
        mem_mb=lambda wildcards, attempt: 500 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        rows=lambda wildcards: "\n".join(patient_rows(p) for p in COHORT.patients),
        report_dirs=lambda wildcards: {
            p: f"{OUTDIR}/patients/{p}/reports" for p in COHORT.patients
        },
    script:
        "../scripts/cohort_summary.py"
