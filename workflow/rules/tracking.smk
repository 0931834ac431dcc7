rule patient_reports:
    input:
        unpack(patient_inputs),
    output:
        timeline=f"{OUTDIR}/patients/{{patient}}/timeline.tsv",
        reports=directory(f"{OUTDIR}/patients/{{patient}}/reports"),
    log:
        f"{OUTDIR}/logs/patient_reports/{{patient}}.log",
    conda:
        "../envs/ctdna_resistance.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        sample_dirs=lambda wildcards: {
            s.sample: sample_dir(s.sample)
            for s in COHORT.samples_of(wildcards.patient)
        },
    script:
        "../scripts/patient_reports.py"
