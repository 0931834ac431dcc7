# Issue 20: a per-site background learned from normal plasmas, built once per run when the config
# names a normals sheet and no ready table; re-run only when the normals, the reference, the panel
# or the fit settings change. Every patient job tests its draws against it.
if BUILD_BACKGROUND:

    rule background:
        input:
            **workflow_config_files(),
            normals=config["normals"],
            bams=NORMAL_BAMS,
            reference=config.get("reference_fasta") or config["reference"],
        output:
            table=BACKGROUND,
            index=f"{BACKGROUND}.tbi",
        log:
            f"{OUTDIR}/logs/background.log",
        conda:
            "../envs/ctdna_resistance.yaml"
        threads: 1
        resources:
            # measured on the demo's normals: see README "Background"; a retry asks for more
            mem_mb=lambda wildcards, attempt: 1000 * attempt,
            runtime=lambda wildcards, attempt: 60 * attempt,
        params:
            fit=config.get("background_fit"),
            genotyping=config.get("genotyping"),
        script:
            "../scripts/background.py"
