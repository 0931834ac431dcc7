rule sample_calls:
    input:
        unpack(sample_inputs),
    output:
        alterations=f"{OUTDIR}/samples/{{sample}}/alterations.tsv",
        filtered=f"{OUTDIR}/samples/{{sample}}/filtered.tsv",
        accounting=f"{OUTDIR}/samples/{{sample}}/accounting.json",
    log:
        f"{OUTDIR}/logs/sample_calls/{{sample}}.log",
    conda:
        "../envs/ctdna_resistance.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/sample_calls.py"
