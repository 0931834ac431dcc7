"""Set up and run one case of the bad-input corpus (tests/bad_inputs/cases.yaml) in a tmp folder.

Shared by the corpus tests and the security tests: a case's file goes where `into` says (a sample
sheet column, the sheet itself, the treatments, the config or the panel), beside the good files of
tests/bad_inputs/_base/, and the real command line or `snakemake` runs on it.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "bad_inputs"
BASE = CORPUS / "_base"
ERROR_PREFIX = "ctdna-resistance: error: "


@dataclass
class Case:
    id: str
    kind: str
    file: str
    into: str  # samples | treatments | config | panel | a sample-sheet column (vcf, cnv, sv, ...)
    stage: str  # validate | calls | track
    outcome: str  # error | filtered
    expect: list[str]
    reason: str = "unreadable_record"
    columns: dict = field(default_factory=dict)  # extra sample-sheet columns (vcf_sample, ...)
    setup: str = ""
    snakemake: bool = False
    note: str = ""
    # a change outside the readers this case needs (e.g. in tracking.py); until it is made the
    # case is an expected failure, and a strict one: once it passes, drop the field
    requires: str = ""
    # Snakemake itself parses --configfile before the workflow's code runs: a file that is not a
    # YAML mapping is refused by Snakemake with its own message (which names no file); this is it
    snakemake_says: str = ""
    # Snakemake's own failure on the file before the workflow's code runs (a traceback): through
    # snakemake the case is a strict xfail with this reason until Snakemake is fixed
    snakemake_bug: str = ""
    # cases of one batch go through snakemake in one run, each as its own patient (cases.yaml)
    batch: str = ""


def load_cases() -> list[Case]:
    """Every case of cases.yaml, in file order."""
    data = yaml.safe_load((CORPUS / "cases.yaml").read_text())
    return [Case(**entry) for entry in data["cases"]]


@dataclass
class Prepared:
    folder: Path
    config: Path
    samples: Path
    outdir: Path
    input_path: Path  # where the case's file ended up

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """Run `python -m ctdna_resistance.cli <args> --config <case config>` in the tmp folder."""
        return subprocess.run(
            [sys.executable, "-m", "ctdna_resistance.cli", *args, "--config", str(self.config)],
            cwd=self.folder,
            capture_output=True,
            text=True,
            check=False,
        )

    def cli_in_process(self, *args: str) -> subprocess.CompletedProcess:
        """As `cli`, through `ctdna_resistance.cli.main` in this process (no start-up cost).

        An exception other than the product's InputError escapes `main` and fails the test, just
        as a traceback on the real command line would.
        """
        from ctdna_resistance.cli import main

        stdout, stderr = io.StringIO(), io.StringIO()
        handler = signal.getsignal(signal.SIGTERM)
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = main([*args, "--config", str(self.config)])
        finally:
            signal.signal(signal.SIGTERM, handler)
        return subprocess.CompletedProcess(args, code, stdout.getvalue(), stderr.getvalue())

    def snakemake(self, *extra: str) -> subprocess.CompletedProcess:
        """Run the real workflow on the case (working directory: the repository, like a user)."""
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "snakemake",
                "--cores",
                "1",
                "--snakefile",
                str(REPO / "Snakefile"),
                "--configfile",
                str(self.config),
                *extra,
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )


def _config_text(
    samples: Path, treatments: Path | None, panel: Path, outdir: Path, vcf_read: str
) -> str:
    return (
        f"samples: {samples}\n"
        f"treatments: {treatments or ''}\n"
        f"panel: {panel}\n"
        "genome_build: GRCh38\n"
        f"outdir: {outdir}\n"
        f"detection:\n  min_depth: 100\n  min_alt_reads: 3\n  vcf_read: {vcf_read}\n"
        # the demo config's normals would build a background in each of the ~200 cases: bad
        # input is refused the same with either model, so the scalar one keeps the corpus fast
        "normals: ''\n"
    )


def prepare(case: Case, tmp: Path) -> Prepared:
    """Lay the case out in ``tmp``: good base files, the case's file in its place, a config."""
    for item in BASE.iterdir():
        shutil.copy(item, tmp / item.name)
    source = CORPUS / case.file
    target = tmp / case.file
    shutil.copy(source, target)
    for index in (".tbi", ".csi", ".bai"):
        if Path(str(source) + index).exists():
            shutil.copy(Path(str(source) + index), Path(str(target) + index))
    if case.setup == "stale_index":
        # git does not keep mtimes: make the index older than the file, as after an edit.
        stamp = target.stat().st_mtime
        os.utime(str(target) + ".tbi", (stamp - 3600, stamp - 3600))
    outdir = tmp / "out"
    samples, treatments, panel = (
        tmp / "samples.tsv",
        tmp / "treatments.tsv",
        tmp / "panel_kras.yaml",
    )
    if case.into == "samples":
        samples = target
    elif case.into == "treatments":
        treatments = target
    elif case.into == "panel":
        panel = target
    else:  # a sample-sheet column
        columns = {"patient": "P1", "sample": "S1", "collection_date": "2024-01-01"}
        if case.into in ("bam", "coverage"):
            # read at the sites of the draw's own calls: the good VCF has a KRAS hotspot
            columns["vcf"] = "good.vcf"
        columns[case.into] = case.file
        columns.update(case.columns)
        samples = tmp / "case_samples.tsv"
        samples.write_text("\t".join(columns) + "\n" + "\t".join(columns.values()) + "\n")
    config = tmp / "config.yaml"
    if case.into == "config":
        raw = target.read_bytes()
        for key, value in (("@SAMPLES@", samples), ("@PANEL@", panel), ("@OUTDIR@", outdir)):
            raw = raw.replace(key.encode(), str(value).encode())
        config.write_bytes(raw)
    else:
        # an index is only consulted when reading the panel regions through it
        vcf_read = "panel_regions" if case.setup == "stale_index" else "whole_file"
        config.write_text(_config_text(samples, treatments, panel, outdir, vcf_read))
    return Prepared(tmp, config, samples, outdir, target)


def error_lines(stderr: str) -> list[str]:
    """The product's error lines in a stderr text."""
    return [line for line in stderr.splitlines() if line.startswith(ERROR_PREFIX)]


def output_files(outdir: Path) -> list[Path]:
    """Result files under outdir (logs are not outputs)."""
    if not outdir.exists():
        return []
    return sorted(p for p in outdir.rglob("*") if p.is_file() and "logs" not in p.parts)


@dataclass
class Batch:
    """Several sample-sheet-column cases laid out as one sheet: case i is patient P<i+1>, sample
    S<i+1>, its file beside the others."""

    folder: Path
    config: Path
    samples: Path
    outdir: Path
    cases: list[tuple[Case, str, str, Path]]  # (case, patient, sample, where its file ended up)

    def snakemake(self) -> subprocess.CompletedProcess:
        """One real workflow run; --keep-going so one patient's refusal leaves the others run."""
        return Prepared(self.folder, self.config, self.samples, self.outdir, self.folder).snakemake(
            "--keep-going"
        )


def _batch_columns(case: Case) -> dict:
    """The case's extra sheet columns; a file that names its sample (an assay export) names the
    corpus' one sample, S1, which in a batch is the case's sample by assay_sample."""
    if case.into == "assay":
        return {"assay_sample": "S1", **case.columns}
    return dict(case.columns)


def prepare_batch(cases: list[Case], tmp: Path) -> Batch:
    """Lay a batch out in ``tmp``: good base files, each case's file, one sheet, a config."""
    for item in BASE.iterdir():
        shutil.copy(item, tmp / item.name)
    laid_out, rows = [], []
    header = ["patient", "sample", "collection_date"]
    for case in cases:
        if case.into in ("samples", "treatments", "config", "panel") or case.stage == "validate":
            raise ValueError(f"{case.id}: only job-time sample-sheet-column cases batch")
        shutil.copy(CORPUS / case.file, tmp / case.file)
        for column in [case.into, *_batch_columns(case)]:
            if column not in header:
                header.append(column)
    for index, case in enumerate(cases, start=1):
        row = {"patient": f"P{index}", "sample": f"S{index}", "collection_date": "2024-01-01"}
        row[case.into] = case.file
        row.update(_batch_columns(case))
        rows.append("\t".join(row.get(column, "") for column in header))
        laid_out.append((case, f"P{index}", f"S{index}", tmp / case.file))
    samples = tmp / "batch_samples.tsv"
    samples.write_text("\t".join(header) + "\n" + "".join(row + "\n" for row in rows))
    outdir = tmp / "out"
    config = tmp / "config.yaml"
    config.write_text(
        _config_text(samples, tmp / "treatments.tsv", tmp / "panel_kras.yaml", outdir, "whole_file")
    )
    return Batch(tmp, config, samples, outdir, laid_out)
