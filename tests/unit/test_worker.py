"""The patient job's client and its long-lived worker (issue 19), run as Snakemake runs them:
``python -S worker_client.py patient ...`` in a subprocess, with a real worker behind a real Unix
socket. (The whole workflow through the worker, byte-identical to one without it, is
tests/hardening/test_determinism_and_interruption.py.)"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ctdna_resistance import worker_client
from ctdna_resistance.config import load_config
from ctdna_resistance.panel import prepare_panel

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "workflow" / "ctdna_resistance"


@pytest.fixture
def runtime_dir():
    """A private folder for this test's worker (a short path: Unix sockets allow ~100 bytes)."""
    folder = tempfile.mkdtemp(prefix="w", dir="/tmp")
    yield Path(folder)
    for sock in Path(folder).rglob("*.sock"):
        sock.unlink()  # the worker, finding its socket gone, still exits on its idle timeout
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """The demo's settings (scalar background) and prepared panel, as rule prepare_panel writes
    them, and the demo's sheets."""
    folder = tmp_path_factory.mktemp("job")
    config = load_config(REPO / "config" / "config.yaml")
    for key in ("normals", "reference_fasta", "background", "clinical"):
        config.pop(key, None)
    config["panel"] = str(REPO / config["panel"])
    settings = folder / "settings.json"
    settings.write_text(json.dumps(config, sort_keys=True))
    panel = folder / "panel.json"
    prepare_panel(config["panel"], panel)
    return {
        "settings": settings,
        "panel": panel,
        "samples": REPO / "test_data" / "samples.tsv",
        "treatments": REPO / "test_data" / "treatments.tsv",
    }


def patient_argv(job: dict, out: Path, patient: str = "P001", **changes) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)  # Snakemake makes the log's folder
    values = {
        "settings": job["settings"],
        "panel": job["panel"],
        "samples": job["samples"],
        "treatments": job["treatments"],
        "log": out / "patient.log",
        "draws-dir": out / "samples",
        "timeline": out / "timeline.tsv",
        "clones": out / "clones.tsv",
        "longitudinal": out / "longitudinal.html",
        "reports-dir": out / "reports",
        **changes,
    }
    argv = ["patient", "--patient", patient]
    for name, value in values.items():
        argv += [f"--{name}", str(value)]
    return argv


def client_env(runtime_dir: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTDNA_RESISTANCE_WORKER")}
    return {**env, "XDG_RUNTIME_DIR": str(runtime_dir), "CTDNA_RESISTANCE_WORKER_IDLE": "20",
            **extra}  # fmt: skip


def client(argv, env, package: Path = PACKAGE, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-S", str(package / "worker_client.py"), *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def run_client(argv, env, package: Path = PACKAGE) -> subprocess.CompletedProcess:
    process = client(argv, env, package)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def worker_log(runtime_dir: Path) -> str:
    return "".join(p.read_text() for p in sorted(runtime_dir.rglob("*.log")))


def sockets(runtime_dir: Path) -> list[Path]:
    return sorted(runtime_dir.rglob("*.sock"))


def test_jobs_run_in_one_worker_with_the_outputs_of_a_fresh_interpreter(job, runtime_dir, tmp_path):
    env = client_env(runtime_dir)
    first = run_client(patient_argv(job, tmp_path / "a"), env)
    assert first.returncode == 0, first.stderr
    # the child that ran it waits for the next job; it gave back the client's stdout and stderr
    # (run_client read both to their end), which a pipe's reader waits for
    (child,) = children_of_worker(runtime_dir)
    second = run_client(patient_argv(job, tmp_path / "b"), env)
    assert second.returncode == 0, second.stderr
    # one worker served both jobs (it logs once when it starts listening), in the same child
    assert worker_log(runtime_dir).count("listening on") == 1, worker_log(runtime_dir)
    assert len(sockets(runtime_dir)) == 1
    assert children_of_worker(runtime_dir) == [child]
    # the same job without the worker: a fresh interpreter (what rule patient ran before)
    direct = run_client(
        patient_argv(job, tmp_path / "c"), client_env(runtime_dir, CTDNA_RESISTANCE_WORKER="off")
    )
    assert direct.returncode == 0, direct.stderr
    names = sorted(
        str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    assert "reports/P001-T0.html" in names and "timeline.tsv" in names
    for name in names:
        if name == "patient.log":
            continue
        content = (tmp_path / "a" / name).read_bytes()
        assert content == (tmp_path / "b" / name).read_bytes(), name
        assert content == (tmp_path / "c" / name).read_bytes(), name


def test_bad_input_exits_1_with_one_line_on_stderr_and_in_the_log(job, runtime_dir, tmp_path):
    sheet = tmp_path / "samples.tsv"
    rows = job["samples"].read_text().splitlines()
    # P001's first VCF points at a file that does not exist
    broken = [rows[0]] + [
        r.replace("vcf/P001-T0.vcf.gz", "vcf/missing.vcf.gz") if r.startswith("P001\t") else r
        for r in rows[1:]
    ]
    sheet.write_text("\n".join(broken) + "\n")
    for name in ("vcf", "cnv", "sv", "normal", "bam", "coverage", "assay"):
        if (job["samples"].parent / name).exists():
            (tmp_path / name).symlink_to(job["samples"].parent / name)
    out = tmp_path / "out"
    done = run_client(patient_argv(job, out, samples=sheet), client_env(runtime_dir))
    assert done.returncode == 1
    error = [line for line in done.stderr.splitlines() if line.startswith("ctdna-resistance:")]
    assert len(error) == 1 and "missing.vcf.gz" in error[0], done.stderr
    assert error[0] in (out / "patient.log").read_text()
    assert not (out / "timeline.tsv").exists() and not (out / "reports").exists()
    # a child whose job failed serves no other: the next job gets a new one
    wait_for(lambda: not children_of_worker(runtime_dir), "the failed job's child gone")
    again = run_client(patient_argv(job, tmp_path / "again"), client_env(runtime_dir))
    assert again.returncode == 0, again.stderr
    assert len(children_of_worker(runtime_dir)) == 1


def test_a_crash_is_a_traceback_in_the_log_and_exit_1(job, runtime_dir, tmp_path):
    settings = tmp_path / "settings.json"
    config = json.loads(job["settings"].read_text())
    config["detection"] = 5  # passes argument parsing, breaks inside the step
    settings.write_text(json.dumps(config))
    out = tmp_path / "out"
    done = run_client(patient_argv(job, out, settings=settings), client_env(runtime_dir))
    assert done.returncode == 1
    assert "Traceback" in (out / "patient.log").read_text()


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.02)


def children_of_worker(runtime_dir: Path) -> list[int]:
    """PIDs of processes whose parent is the worker (its running jobs)."""
    line = next(x for x in worker_log(runtime_dir).splitlines() if "listening on" in x)
    worker = int(line.split()[1])
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == worker and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_stopped_job_stops_its_child_and_leaves_no_partial_output(
    job, runtime_dir, tmp_path, sig
):
    # the job blocks reading its settings from a FIFO nobody writes: it is running, in the worker
    fifo = tmp_path / "settings.fifo"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    process = client(patient_argv(job, out, settings=fifo), client_env(runtime_dir))
    wait_for(lambda: sockets(runtime_dir) and children_of_worker(runtime_dir), "a running job")
    (child,) = children_of_worker(runtime_dir)
    process.send_signal(sig)  # SIGTERM: what Snakemake sends; SIGKILL: nothing can clean up
    process.communicate(timeout=60)
    assert process.returncode != 0
    wait_for(lambda: not Path(f"/proc/{child}").exists() or _zombie(child), "the child gone")
    assert [p.name for p in out.iterdir()] == []  # no output, no temporary


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_changed_package_gets_a_new_worker(job, runtime_dir, tmp_path):
    # a copy of the package (and the schemas beside it), as an edited checkout: its own worker
    copy = tmp_path / "workflow"
    shutil.copytree(
        PACKAGE.parent, copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    env = client_env(runtime_dir, PYTHONPATH=str(copy))
    assert (
        run_client(patient_argv(job, tmp_path / "a"), env, copy / "ctdna_resistance").returncode
        == 0
    )
    module = copy / "ctdna_resistance" / "tracking.py"
    module.write_text(module.read_text() + "\n# edited\n")
    done = run_client(patient_argv(job, tmp_path / "b"), env, copy / "ctdna_resistance")
    assert done.returncode == 0, done.stderr
    log = worker_log(runtime_dir)
    assert "package changed on disk" in log and log.count("listening on") == 2, log


def test_a_worker_that_cannot_start_leaves_the_job_to_a_fresh_interpreter(
    job, runtime_dir, tmp_path
):
    env = client_env(runtime_dir, CTDNA_RESISTANCE_WORKER_IDLE="not-a-number")
    done = run_client(patient_argv(job, tmp_path / "out"), env)
    assert done.returncode == 0, done.stderr
    assert "no worker (the worker exited" in done.stderr and "running the job here" in done.stderr
    assert (tmp_path / "out" / "reports" / "P001-T0.html").is_file()


def test_the_client_imports_the_standard_library_only():
    # run with python -S: site-packages (and so the package's dependencies) are not importable
    code = (
        f"import sys; sys.path.insert(0, {str(PACKAGE.parent)!r}); "
        "import ctdna_resistance.worker_client; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'pandas', 'numpy', 'cyvcf2', 'pysam', 'yaml', 'snakemake'}))"
    )
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_off_switch_values():
    assert worker_client.worker_wanted({})
    for value in ("off", "0", "false", "No"):
        assert not worker_client.worker_wanted({"CTDNA_RESISTANCE_WORKER": value})


def test_another_environment_of_the_same_python_gets_its_own_worker(job, runtime_dir, tmp_path):
    # a venv's python is a symlink to the same interpreter; its packages may differ
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
    )
    # the venv finds this environment's packages (a venv made here is of the base interpreter)
    env = client_env(runtime_dir, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    assert run_client(patient_argv(job, tmp_path / "a"), env).returncode == 0
    process = subprocess.run(
        [str(venv / "bin" / "python"), "-S", str(PACKAGE / "worker_client.py"),
         *patient_argv(job, tmp_path / "b")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert len(sockets(runtime_dir)) == 2
    assert worker_log(runtime_dir).count("listening on") == 2
