"""Bad input stops with one line naming the file and what to do, a non-zero exit, and no partial
outputs: through the command line tool and through the real `snakemake`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import draw_folder

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "test_data"
CONTIGS38 = "##contig=<ID=chr1,length=248956422>\n##contig=<ID=chr12,length=133275309>\n"
CONTIGS37 = "##contig=<ID=chr1,length=249250621>\n##contig=<ID=chr12,length=133851895>\n"


def write_vcf(path: Path, contigs: str, fmt_defs: str, fmt: str, value: str) -> Path:
    path.write_text(
        "##fileformat=VCFv4.2\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        f"{fmt_defs}{contigs}"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPLASMA\n"
        f"chr12\t25245350\t.\tC\tT\t.\tPASS\t.\t{fmt}\t{value}\n"
    )
    return path


AD_DP = (
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
)


def sheet(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "samples.tsv"
    path.write_text("patient\tsample\tcollection_date\tvcf\n" + "".join(r + "\n" for r in rows))
    return path


def cli(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "ctdna_resistance.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def snakemake(tmp_path: Path, *config):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--cores",
            "1",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--config",
            f"outdir={tmp_path / 'out'}",
            "treatments=",
            *config,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def assert_one_line_error(stderr: str, *needles: str) -> None:
    lines = [line for line in stderr.splitlines() if "ctdna-resistance: error:" in line]
    assert len(lines) >= 1, stderr[-2000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in stderr


@pytest.fixture
def good_vcf(tmp_path):
    return write_vcf(tmp_path / "good.vcf", CONTIGS38, AD_DP, "GT:AD:DP", "0/1:990,10:1000")


def test_duplicate_sample_is_refused_before_any_job(tmp_path, good_vcf):
    samples = sheet(tmp_path, ["P1\tS1\t2024-01-01\tgood.vcf", "P1\tS1\t2024-02-01\tgood.vcf"])
    done = snakemake(tmp_path, f"samples={samples}")
    assert done.returncode != 0
    assert "appears twice" in done.stderr and str(samples) in done.stderr
    assert not (tmp_path / "out").exists()
    result = cli("validate", "--set", f"samples={samples}", "--set", "treatments=")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, str(samples), "appears twice")


def test_bad_id_and_missing_file_are_refused(tmp_path, good_vcf):
    samples = sheet(tmp_path, ["P1\tS1;rm -rf\t2024-01-01\tgood.vcf"])
    result = cli("validate", "--set", f"samples={samples}", "--set", "treatments=")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, f"{samples}:2", "sample")
    samples = sheet(tmp_path, ["P1\tS1\t2024-01-01\tnot_there.vcf"])
    result = cli("validate", "--set", f"samples={samples}", "--set", "treatments=")
    assert_one_line_error(result.stderr, str(samples), "not_there.vcf", "does not exist")
    done = snakemake(tmp_path, f"samples={samples}")
    assert done.returncode != 0 and "not_there.vcf" in done.stderr
    assert not (tmp_path / "out").exists()


def test_vcf_of_the_other_build_stops_the_job_and_leaves_no_outputs(tmp_path):
    write_vcf(tmp_path / "b37.vcf", CONTIGS37, AD_DP, "GT:AD:DP", "0/1:990,10:1000")
    samples = sheet(tmp_path, ["P1\tS1\t2024-01-01\tb37.vcf"])
    done = snakemake(tmp_path, f"samples={samples}")
    assert done.returncode != 0
    assert_one_line_error(done.stderr, "b37.vcf", "GRCh37")
    assert not list((tmp_path / "out" / "patients").rglob("*.tsv"))
    result = cli(
        "calls",
        "--sample",
        "S1",
        "--set",
        f"samples={samples}",
        "--set",
        "treatments=",
        "--set",
        f"outdir={tmp_path / 'cli'}",
    )
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "b37.vcf", "GRCh37")
    assert not (
        tmp_path / "cli" / "patients" / "P1" / "samples" / "S1" / "alterations.tsv"
    ).exists()


def test_vcf_with_no_usable_depth_is_refused(tmp_path):
    write_vcf(tmp_path / "nodepth.vcf", CONTIGS38, "", "GT", "0/1")
    samples = sheet(tmp_path, ["P1\tS1\t2024-01-01\tnodepth.vcf"])
    result = cli(
        "calls",
        "--sample",
        "S1",
        "--set",
        f"samples={samples}",
        "--set",
        "treatments=",
        "--set",
        f"outdir={tmp_path / 'cli'}",
    )
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "nodepth.vcf")
    assert not (tmp_path / "cli" / "patients").exists() or not list(
        (tmp_path / "cli" / "patients").rglob("*.*")
    )


def test_cli_runs_one_step_outside_snakemake(tmp_path, good_vcf):
    samples = sheet(tmp_path, ["P1\tS1\t2024-01-01\tgood.vcf"])
    out = tmp_path / "cli"
    common = ["--set", f"samples={samples}", "--set", "treatments=", "--set", f"outdir={out}"]
    assert cli("calls", "--sample", "S1", *common).returncode == 0
    rows = (draw_folder(out, "S1") / "alterations.tsv").read_text().splitlines()
    assert len(rows) == 2 and "KRAS" in rows[1] and "p.G12D" in rows[1]
    assert cli("track", "--patient", "P1", *common).returncode == 0
    assert (out / "patients" / "P1" / "reports" / "S1.html").is_file()
    assert cli("cohort", *common).returncode == 0
    assert "P1" in (out / "cohort" / "summary.tsv").read_text()
    shutil.rmtree(out)
