"""Same answer twice, and survives being killed: the demo run with --cores 1 and --cores 2 gives
byte-identical outputs, and a run stopped part-way (SIGTERM, then separately SIGKILL) and run again
gives the outputs of an uninterrupted run, with no half-written file taken as complete.

The --cores 1 run has no worker (CTDNA_RESISTANCE_WORKER=off: a fresh interpreter per patient
job), the others hand patient jobs to the long-lived worker: the same outputs prove that running
in a forked child of the worker changes nothing (issue 19)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[2]


def workflow_copy(folder: Path) -> Path:
    """The workflow and the demo in a folder of their own, so Snakemake's .snakemake/ (locks,
    incomplete markers) of a killed run stays there and never touches the repository's."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake")
    for name in ("workflow", "config", "panels", "test_data"):
        shutil.copytree(REPO / name, folder / name, ignore=ignore)
    shutil.copy(REPO / "Snakefile", folder / "Snakefile")
    return folder


def snakemake_command(cores: int, outdir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--cores", str(cores),
            "--config", f"outdir={outdir}", *extra]  # fmt: skip


def run(
    workdir: Path, cores: int, outdir: Path, *extra: str, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        snakemake_command(cores, outdir, *extra),
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def snapshot(outdir: Path) -> dict[str, bytes]:
    """Every result file by relative path (logs carry timings and are not results; the run's
    settings, read by its patient jobs, name the absolute paths of this copy's files)."""
    return {
        str(p.relative_to(outdir)): p.read_bytes()
        for p in sorted(outdir.rglob("*"))
        if p.is_file()
        and "logs" not in p.relative_to(outdir).parts
        and p.relative_to(outdir) != Path("panel/settings.json")
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted demo run with --cores 2."""
    workdir = workflow_copy(tmp_path_factory.mktemp("reference"))
    done = run(workdir, 2, workdir / "results")
    assert done.returncode == 0, done.stderr[-3000:]
    files = snapshot(workdir / "results")
    assert any(name.endswith(".html") for name in files)
    return files


def assert_same(files: dict[str, bytes], reference: dict[str, bytes]) -> None:
    assert files.keys() == reference.keys(), sorted(set(files) ^ set(reference))
    different = [name for name in reference if files[name] != reference[name]]
    assert not different, different


@pytest.mark.parametrize(
    "cores, extra",
    [
        (1, ("--no-worker",)),
        # the local profile picks ready jobs at random when more are ready than its
        # scheduler-subsample; the demo has at most 4 ready at once, so 1 makes the order random
        (2, ("--workflow-profile", "workflow/profiles/default", "--scheduler-subsample", "1")),
    ],
    ids=["cores-1-no-worker", "local-profile"],
)
def test_cores_1_and_cores_2_give_byte_identical_outputs(reference, tmp_path, cores, extra):
    workdir = workflow_copy(tmp_path)
    env = None
    if "--no-worker" in extra:
        extra = tuple(e for e in extra if e != "--no-worker")
        env = {**os.environ, "CTDNA_RESISTANCE_WORKER": "off"}
    done = run(workdir, cores, workdir / "results", *extra, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    if env:
        assert "no worker" not in done.stderr  # off is not a failure to start one
    # the product's onstart hook ran (tests/workflow/test_local_rate_limit.py: what it saves)
    assert "Snakemake's job-rate limit (100/1s) is off" in done.stderr
    assert_same(snapshot(workdir / "results"), reference)


def job_running(outdir: Path) -> bool:
    """The first patient's outputs are in place and a next patient's job has opened its log.

    Not "as soon as the first outputs appear": Snakemake 9.27 then post-processes that job
    (checksums) holding its scheduler's lock, and a SIGTERM landing there deadlocks Snakemake's
    own handler (JobScheduler.exit_gracefully waits for that lock). Once the next job has opened
    its log, Snakemake has finished with the first and waits for the second.
    """
    done = len(list(outdir.glob("patients/*/timeline.tsv")))
    started = len(list(outdir.glob("logs/patients/*.log")))
    return done >= 1 and started > done


def start_and_kill_after_first_outputs(workdir: Path, outdir: Path, sig: int) -> None:
    """Start the demo, wait until the first patient's outputs are in place and the next patient's
    job runs, send ``sig``.

    SIGTERM goes to Snakemake alone (it lets running jobs finish, then stops); SIGKILL goes to the
    whole process group, as when a cluster kills the job or the node dies, so nothing can clean up.
    """
    process = subprocess.Popen(
        snakemake_command(1, outdir),
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    try:
        while not job_running(outdir):
            assert process.poll() is None, process.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "no output appeared within 60 s"
            time.sleep(0.02)
        if sig == signal.SIGKILL:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.send_signal(sig)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stderr.close()
    assert process.returncode != 0, "the run should have been stopped part-way"


def hidden_leftovers(outdir: Path) -> list[str]:
    """Temporaries of atomic_outputs (".<name>.<random>"); Snakemake's own marker is no leftover."""
    return sorted(str(p) for p in outdir.rglob(".*") if p.name != ".snakemake_timestamp")


def test_sigterm_part_way_then_rerun_gives_the_uninterrupted_outputs(reference, tmp_path):
    workdir = workflow_copy(tmp_path)
    outdir = workdir / "results"
    start_and_kill_after_first_outputs(workdir, outdir, signal.SIGTERM)
    partial = snapshot(outdir)
    assert partial.keys() < reference.keys(), "some outputs should still be missing"
    for name, content in partial.items():  # what is there is complete, never half-written
        assert content == reference[name], name
    assert hidden_leftovers(outdir) == []  # SIGTERM lets the job remove its temporaries
    done = run(workdir, 1, outdir)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same(snapshot(outdir), reference)


def test_sigkill_part_way_then_rerun_gives_the_uninterrupted_outputs(reference, tmp_path):
    workdir = workflow_copy(tmp_path)
    outdir = workdir / "results"
    start_and_kill_after_first_outputs(workdir, outdir, signal.SIGKILL)
    partial = snapshot(outdir)
    assert partial.keys() < reference.keys()
    for name, content in partial.items():  # atomic moves: any file in place is complete
        assert content == reference[name], name
    # Killed before it could record the job as finished, Snakemake marks that job's outputs as
    # incomplete: a plain re-run refuses them and names the remedy, which is what a user does.
    done = run(workdir, 1, outdir)
    if done.returncode != 0:
        assert "--rerun-incomplete" in done.stderr or "--unlock" in done.stderr, done.stderr
        assert run(workdir, 1, outdir, "--unlock").returncode == 0
        done = run(workdir, 1, outdir, "--rerun-incomplete")
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same(snapshot(outdir), reference)
    # temporaries of the killed job were removed when the re-run rewrote those outputs
    assert hidden_leftovers(outdir) == []
