"""Every case of the bad-input corpus (tests/bad_inputs/cases.yaml) through the command line and
through the real `snakemake` (and the `snakemake: true` subset also as a separate
`python -m ctdna_resistance.cli` process): refused with one clear line naming the file (and line)
and what to do, no traceback, no output left behind; or, for record-level problems, kept in
filtered.tsv with the reason while the counts reconcile (SPEC 5.1, 7)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import draw_folder
from hardening_corpus import (
    CORPUS,
    ERROR_PREFIX,
    error_lines,
    load_cases,
    output_files,
    prepare,
    prepare_batch,
)

from ctdna_resistance.io.vcf_dialects import DIALECTS

CASES = load_cases()
TRACEBACK = "Traceback (most recent call last)"


def read_tsv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_corpus_is_complete_and_every_file_is_a_case():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 40
    files = {case.file for case in CASES}
    on_disk = {
        p.name
        for p in CORPUS.iterdir()
        if p.is_file() and p.name != "cases.yaml" and not p.name.endswith((".tbi", ".csi", ".bai"))
    }
    assert files == on_disk
    kinds = {case.kind for case in CASES}
    for kind in ("sample_sheet", "treatments", "config", "panel", "vcf_generic", "vcf_mutect2",
                 "vcf_vardict", "vcf_strelka2", "vcf_varscan2", "vcf_lofreq", "vcf_bcftools",
                 "vcf_freebayes", "cnv_cnvkit", "cnv_seg", "cnv_gatk", "cnv_ichorcna",
                 "cnv_purple", "cnv_ascat", "cnv_controlfreec", "cnv_purecn", "sv_vcf_manta",
                 "sv_vcf_delly", "sv_vcf_gridss", "sv_vcf_dragen", "fusion_table", "bam",
                 "coverage", "assay_quantasoft", "assay_generic"):  # fmt: skip
        assert kind in kinds, kind
    # every small-variant dialect the reader knows has its cases (a new dialect needs them too)
    assert {f"vcf_{dialect}" for dialect in DIALECTS} <= kinds
    # the kinds added with issue 7's second pass: at least two cases each, and each kind
    # exactly once through snakemake
    for kind in ("vcf_lofreq", "vcf_bcftools", "vcf_freebayes", "cnv_ascat", "cnv_controlfreec",
                 "cnv_purecn", "sv_vcf_gridss", "sv_vcf_dragen"):  # fmt: skip
        of_kind = [case for case in CASES if case.kind == kind]
        assert len(of_kind) >= 2, kind
        assert sum(case.snakemake for case in of_kind) == 1, kind
    # every input kind is run through snakemake at least once (by its family)
    families = {case.kind.split("_")[0] for case in CASES if case.snakemake and not case.requires}
    assert families >= {"sample", "treatments", "config", "panel", "vcf", "cnv", "sv", "fusion",
                        "bam", "coverage", "assay"}, families  # fmt: skip


def assert_refused(stderr: str, case, prepared) -> str:
    """Exactly one product error line, naming the file, holding the expected text; no traceback."""
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr[-2000:]
    line = lines[0]
    named = prepared.config if case.into == "config" else prepared.input_path
    if case.stage == "validate" and case.into not in ("samples", "treatments", "config", "panel"):
        named = prepared.samples
    assert line.startswith(f"{ERROR_PREFIX}{named}"), line
    for needle in case.expect:
        assert needle in line, line
    what, _, fix = line[len(ERROR_PREFIX) :].rpartition("; ")
    assert what and fix, f"no '; what to do' part: {line}"
    assert TRACEBACK not in stderr, stderr[-2000:]
    return line


def check_case(case, prepared, run) -> None:
    """Run the case's step with ``run`` (in-process or real command line) and check the outcome."""
    if case.stage == "validate":
        done = run("validate")
        assert done.returncode == 1, done.stdout + done.stderr
        assert_refused(done.stderr, case, prepared)
        return
    # calls: the sheet itself is fine, the refusal (or the filtering) comes with reading the
    # VCF, copy-number or SV file; track: with re-genotyping the draw's BAM / coverage file at
    # the patient's sites (the patient step, which also writes the draw's calls)
    if case.stage == "track":
        done = run("track", "--patient", "P1")
    else:
        done = run("calls", "--sample", "S1")
    if case.outcome == "error":
        assert done.returncode == 1, done.stdout + done.stderr
        assert_refused(done.stderr, case, prepared)
        assert output_files(prepared.outdir) == []
        leftovers = list(prepared.outdir.rglob(".*")) if prepared.outdir.exists() else []
        assert leftovers == [], leftovers
        return
    assert done.returncode == 0, done.stderr[-2000:]
    assert TRACEBACK not in done.stderr
    assert_filtered(case, prepared.outdir)


def _params(cases):
    """Cases as pytest params; a case that ``requires`` a change elsewhere is a strict xfail."""
    return [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(reason=case.requires, strict=True)] if case.requires else [],
        )
        for case in cases
    ]


@pytest.mark.parametrize("case", _params(CASES))
def test_case_through_the_cli_entry_point(case, tmp_path):
    prepared = prepare(case, tmp_path)
    check_case(case, prepared, prepared.cli_in_process)


SUBSET = [c for c in CASES if c.snakemake]


@pytest.mark.parametrize("case", _params(SUBSET))
def test_case_through_the_real_command_line(case, tmp_path):
    """`python -m ctdna_resistance.cli` as a process: exit code and stderr as a user sees them."""
    prepared = prepare(case, tmp_path)
    check_case(case, prepared, prepared.cli)


def assert_filtered(case, outdir: Path, sample: str = "S1") -> None:
    folder = draw_folder(outdir, sample)
    filtered = read_tsv(folder / "filtered.tsv")
    reported = read_tsv(folder / "alterations.tsv")
    accounting = json.loads((folder / "accounting.json").read_text())
    assert reported == [], "a record with a problem must never be reported"
    assert filtered, "the record must be listed, not dropped"
    assert {row["reason"] for row in filtered} == {case.reason}
    for row in filtered:
        for needle in case.expect:
            assert needle in row["detail"], row
    assert accounting["reconciles"] is True
    assert accounting["records_read"] == len(filtered)
    assert accounting["filtered_by_reason"] == {case.reason: len(filtered)}


def _snakemake_params(cases):
    """As `_params`; a case Snakemake itself crashes on is a strict xfail through snakemake."""
    params = _params(cases)
    for index, case in enumerate(cases):
        if case.snakemake_bug:
            marks = [
                *params[index].marks,
                pytest.mark.xfail(reason=case.snakemake_bug, strict=True),
            ]
            params[index] = pytest.param(case, id=case.id, marks=marks)
    return params


@pytest.mark.workflow
@pytest.mark.parametrize("case", _snakemake_params([c for c in CASES if not c.batch]))
def test_case_through_snakemake(case, tmp_path):
    prepared = prepare(case, tmp_path)
    done = prepared.snakemake()
    assert TRACEBACK not in done.stderr, done.stderr[-3000:]
    if case.outcome == "filtered":
        assert done.returncode == 0, done.stderr[-3000:]
        assert_filtered(case, prepared.outdir)
        # and the draw's report says so in its QC section (JSON and HTML)
        report = prepared.outdir / "patients" / "P1" / "reports" / "S1.json"
        qc = json.loads(report.read_text())["qc"]
        assert qc["filter_reasons"] == {case.reason: qc["filtered"]}, qc
        assert f"<th>filtered: {case.reason}</th>" in report.with_suffix(".html").read_text()
        return
    assert done.returncode != 0
    # the prepared panel (out/panel/) and the background table (out/background/) are outputs
    # of earlier steps that succeeded; the failing step's outputs (samples/, patients/,
    # cohort/) must not be there
    step_outputs = [
        p
        for p in output_files(prepared.outdir)
        if p.relative_to(prepared.outdir).parts[0] not in ("panel", "background")
    ]
    assert step_outputs == []
    if case.snakemake_says:
        # refused by Snakemake before any workflow code runs: its own message, one of its lines
        assert case.snakemake_says in done.stderr, done.stderr[-2000:]
        assert error_lines(done.stderr) == [], done.stderr[-2000:]
        return
    if case.into in ("samples", "treatments", "config", "panel"):
        # parse time (common.smk reads config, sheets and panel): the WorkflowError holds the
        # product's message
        message = assert_refused(ERROR_PREFIX + _workflow_error(done.stderr), case, prepared)
        assert message
        return
    # job time (the panel and the VCFs are read by the patient's job): the script's error line
    assert_refused(done.stderr, case, prepared)


def _workflow_error(stderr: str) -> str:
    """The line after 'WorkflowError in file ...', where Snakemake prints the message."""
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("WorkflowError in file"):
            return lines[index + 1]
    raise AssertionError(f"no WorkflowError in: {stderr[-2000:]}")


@pytest.mark.workflow
def test_snakemake_config_error_is_the_products_one_line(tmp_path):
    case = next(c for c in CASES if c.id == "config_unknown_key")
    prepared = prepare(case, tmp_path)
    done = prepared.snakemake()
    assert done.returncode != 0
    assert_refused(ERROR_PREFIX + _workflow_error(done.stderr), case, prepared)


BATCHES = sorted({case.batch for case in CASES if case.batch})


@pytest.mark.workflow
@pytest.mark.parametrize("batch", BATCHES)
def test_batch_through_one_snakemake_run(batch, tmp_path):
    """The cases of a batch as the patients of one sheet, through one `snakemake --keep-going`:
    each refused case's job prints its one line naming its file and leaves no output of its
    patient; each filtered case's patient is reported with the record in filtered.tsv."""
    laid_out = prepare_batch([case for case in CASES if case.batch == batch], tmp_path)
    done = laid_out.snakemake()
    assert TRACEBACK not in done.stderr, done.stderr[-3000:]
    lines = error_lines(done.stderr)
    refused = [case for case, *_ in laid_out.cases if case.outcome == "error"]
    assert (done.returncode != 0) == bool(refused)
    for case, patient, sample, path in laid_out.cases:
        mine = [line for line in lines if line.startswith(f"{ERROR_PREFIX}{path}")]
        if case.outcome == "filtered":
            assert mine == [], mine
            assert_filtered(case, laid_out.outdir, sample)
            qc = json.loads(
                (laid_out.outdir / "patients" / patient / "reports" / f"{sample}.json").read_text()
            )["qc"]
            assert qc["filter_reasons"] == {case.reason: qc["filtered"]}, qc
            continue
        assert len(set(mine)) == 1, (case.id, lines)  # the job's line (once per retry)
        for needle in case.expect:
            assert needle in mine[0], mine[0]
        what, _, fix = mine[0][len(ERROR_PREFIX) :].rpartition("; ")
        assert what and fix, mine[0]
        outputs = output_files(laid_out.outdir)
        # the draw's tables live in its patient's folder (patients/{patient}/samples/{sample})
        folder = ("patients", patient)
        assert not [p for p in outputs if p.relative_to(laid_out.outdir).parts[:2] == folder]
