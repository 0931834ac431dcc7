"""Security: IDs are validated before they reach a path or a command; every input-derived string
is escaped in the HTML reports; a patient's folder holds no other patient's identifiers."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from hardening_corpus import BASE, REPO, Case, prepare

from ctdna_resistance.cli import main

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
PAYLOADS = (SCRIPT, IMG, "<img", "<script")


def test_only_the_worker_jobs_run_a_shell_string():
    """House rule 5: steps run as `script:`, except rules patient and cohort_summary, whose
    `python -S` client hands the job to the worker (issue 19); their commands are checked below."""
    shell_rules = {"patients.smk": 1, "cohort.smk": 1}
    for rules in (REPO / "workflow" / "rules").glob("*.smk"):
        shells = re.findall(r"^\s*shell:", rules.read_text(), re.MULTILINE)
        assert len(shells) == shell_rules.get(rules.name, 0), rules
    assert not re.search(r"^\s*shell:", (REPO / "Snakefile").read_text(), re.MULTILINE)


def test_paths_with_shell_metacharacters_reach_the_patient_job_intact(tmp_path):
    """The sheet, config and outdir paths go into the shell commands of rules patient and
    cohort_summary: quoted, a path with spaces, quotes, `;` and `$(...)` is one argument and runs
    nothing."""
    # (no braces: Snakemake reads braces in any input or output path as wildcards)
    folder = tmp_path / "odd dir;$(touch PWNED) 'q\" &x"
    folder.mkdir()
    case = Case("ok", "vcf_generic", "vcf_negative_depth.vcf", "vcf", "calls", "filtered", [])
    prepared = prepare(case, folder)
    done = prepared.snakemake()
    assert done.returncode == 0, done.stderr[-3000:]
    assert list(prepared.outdir.glob("patients/*/reports/*.html"))
    assert (prepared.outdir / "cohort" / "summary.tsv").is_file()
    for where in (REPO, tmp_path, folder, Path.cwd()):
        assert not (where / "PWNED").exists()


def test_an_id_from_the_command_line_is_checked_before_any_path(tmp_path, capsys):
    case = Case("ok", "vcf_generic", "vcf_negative_depth.vcf", "vcf", "calls", "filtered", [])
    prepared = prepare(case, tmp_path)
    escape = "../../escaped"
    code = main(["calls", "--sample", escape, "--config", str(prepared.config)])
    assert code == 1
    assert "no sample '../../escaped' in the sample sheet" in capsys.readouterr().err
    assert not (prepared.outdir.parent.parent / "escaped").exists()
    assert not prepared.outdir.exists()
    code = main(["track", "--patient", "P1;touch x", "--config", str(prepared.config)])
    assert code == 1
    assert not prepared.outdir.exists()


def hostile_cohort(folder: Path) -> Path:
    """Two patients whose free-text inputs carry HTML: timepoint labels, treatment agents, VCF
    annotations and file names, a user panel's evidence and strategy texts."""
    good = (BASE / "good.vcf").read_text()
    csq = (
        '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl '
        'VEP. Format: Allele|Consequence|SYMBOL|Feature|HGVSc|HGVSp">\n'
    )
    hostile_vcf = good.replace("#CHROM", csq + "#CHROM").replace(
        "PASS\t.", f"PASS\tCSQ=T|missense_variant{SCRIPT}|KRAS|NM_004985.5|c.35G>A{IMG}|p.G12D"
    )
    vcf_name = 'calls"><img src=x onerror=alert(3)>.vcf'
    (folder / vcf_name).write_text(hostile_vcf)
    shutil.copy(BASE / "good.vcf", folder / "good.vcf")
    (folder / "samples.tsv").write_text(
        "patient\tsample\tcollection_date\tvcf\ttimepoint\n"
        f"PATIENTAAA\tDRAWAAA1\t2024-01-01\t{vcf_name}\t{IMG}\n"
        f"PATIENTAAA\tDRAWAAA2\t2024-03-01\tgood.vcf\t{SCRIPT}\n"
        "PATIENTBBB\tDRAWBBB1\t2024-01-02\tgood.vcf\t\n"
    )
    (folder / "treatments.tsv").write_text(
        "patient\tagent\tstart_date\tend_date\n"
        f"PATIENTAAA\tcetuximab+{SCRIPT}\t2023-12-20\t\n"
        f"PATIENTBBB\t{IMG}\t2023-12-20\t\n"
    )
    panel = yaml.safe_load((REPO / "panels" / "anti_egfr_crc.yaml").read_text())
    for entry in panel["evidence"]:
        for key in ("finding", "study", "setting"):
            if isinstance(entry.get(key), str):
                entry[key] = f"{entry[key]} {SCRIPT}"
    for entry in panel["strategies"]:
        for key in ("study", "mechanism", "regimen"):
            if isinstance(entry.get(key), str):
                entry[key] = f"{entry[key]} {IMG}"
    panel["title"] = f"user panel {SCRIPT}"
    (folder / "panel.yaml").write_text(yaml.safe_dump(panel, sort_keys=False))
    config = folder / "config.yaml"
    config.write_text(
        f"samples: {folder / 'samples.tsv'}\ntreatments: {folder / 'treatments.tsv'}\n"
        f"panel: {folder / 'panel.yaml'}\ngenome_build: GRCh38\noutdir: {folder / 'out'}\n"
        "detection: {min_depth: 100}\n"
    )
    return config


def test_html_reports_escape_every_input_derived_string(tmp_path, capsys):
    config = hostile_cohort(tmp_path)
    for args in (["track", "--patient", "PATIENTAAA"], ["track", "--patient", "PATIENTBBB"],
                 ["cohort"]):  # fmt: skip
        assert main([*args, "--config", str(config)]) == 0, capsys.readouterr().err
    pages = sorted((tmp_path / "out").rglob("*.html"))
    assert len(pages) == 6  # three draws, two longitudinal pages, the cohort summary
    escaped_seen = 0
    for page in pages:
        html = page.read_text()
        for payload in PAYLOADS:
            assert payload not in html, f"{page.name} holds {payload!r} unescaped"
        escaped_seen += html.count("&lt;script&gt;") + html.count("&lt;img")
    assert escaped_seen > 0, "the hostile strings should reach the reports, escaped"


def test_a_patient_folder_holds_no_other_patients_identifiers(tmp_path, capsys):
    config = hostile_cohort(tmp_path)
    for patient in ("PATIENTAAA", "PATIENTBBB"):
        assert main(["track", "--patient", patient, "--config", str(config)]) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    others = {"PATIENTAAA": ("PATIENTBBB", "DRAWBBB1"), "PATIENTBBB": ("PATIENTAAA", "DRAWAAA")}
    for patient, foreign in others.items():
        files = [p for p in (out / "patients" / patient).rglob("*") if p.is_file()]
        assert files
        for path in files:
            text = path.read_text()
            for identifier in foreign:
                assert identifier not in text, f"{path} names {identifier}"
