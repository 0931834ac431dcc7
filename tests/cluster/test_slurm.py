"""The cluster user's story: the demo workflow submitted through a real SLURM with the committed
profile, every job run by SLURM (the patients in group jobs, fewer submissions than patients),
and the outputs byte-identical to a local (ungrouped) run.

Needs a running SLURM on this machine (`bash ../shared/hpc/start-local-slurm.sh`, as root; `.ci/run`
starts it). Without one the test is skipped and says why. With `CTDNA_START_SLURM=1`, as root, the
test starts the local cluster itself and stops it afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

REPO = Path(__file__).resolve().parents[2]
HPC_SCRIPTS = REPO.parent / "shared" / "hpc"
SLURM_PROFILE = REPO / "workflow" / "profiles" / "slurm"
# the demo's whole run through SLURM takes about a minute; more means something hangs
CLUSTER_RUN_TIMEOUT_S = 240

# a job's number, or a group job's UUID
SUBMITTED = re.compile(r"Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.")
FINISHED = re.compile(r"Finished jobid: (\d+) \(Rule: (\S+)\)")
# the aggregate target rule: no code, so Snakemake completes it on the submitting host
TARGET_RULE = "all"
# the profile submits patient jobs in groups (group-components), each job still its own
PATIENT_RULE, PATIENT_GROUP = "patient", "patients"


def run(args, timeout, env=None):
    return subprocess.run(
        [str(a) for a in args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=env,
    )


def slurm_down_reason() -> str | None:
    """Why jobs cannot be submitted to a SLURM here, or None when a partition is up."""
    if shutil.which("sinfo") is None:
        return "sinfo is not on PATH (no SLURM client installed)"
    try:
        done = run(["sinfo", "-h", "-o", "%P %t"], timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 20 s (slurmctld not running?)"
    if done.returncode != 0:
        return f"sinfo failed: {(done.stderr or done.stdout).strip()[:200]}"
    states = {line.split()[1] for line in done.stdout.splitlines() if len(line.split()) == 2}
    if not states & {"idle", "mix", "alloc"}:
        return f"no node is ready (sinfo node states: {sorted(states) or 'none'})"
    return None


def default_partition() -> str:
    """The partition sinfo marks as default (`main*`), else the first one listed."""
    names = run(["sinfo", "-h", "-o", "%P"], timeout=20).stdout.split()
    marked = [n.rstrip("*") for n in names if n.endswith("*")]
    return (marked or names)[0].rstrip("*")


@pytest.fixture(scope="module")
def slurm():
    """A SLURM cluster that accepts jobs: the running one, or (opt-in, root) the local one."""
    reason = slurm_down_reason()
    started_here = False
    if reason and os.environ.get("CTDNA_START_SLURM") == "1":
        if os.geteuid() != 0:
            reason += "; CTDNA_START_SLURM=1 was set but starting SLURM needs root"
        elif not (HPC_SCRIPTS / "start-local-slurm.sh").is_file():
            reason += f"; CTDNA_START_SLURM=1 was set but {HPC_SCRIPTS} has no start script"
        else:
            # a fresh machine installs slurm-wlm + munge first: minutes, not seconds
            start = run(["bash", HPC_SCRIPTS / "start-local-slurm.sh"], timeout=900)
            started_here = start.returncode == 0
            reason = slurm_down_reason() if started_here else f"{reason}; start: {start.stdout}"
    if reason:
        pytest.skip(
            f"no SLURM cluster to submit to: {reason}. Start one with "
            "`sudo bash ../shared/hpc/start-local-slurm.sh` or set CTDNA_START_SLURM=1 (as root)"
        )
    yield default_partition()
    if started_here:
        run(["bash", HPC_SCRIPTS / "stop-local-slurm.sh"], timeout=60)


def output_files(outdir: Path) -> dict[Path, bytes]:
    """Every output file's bytes, by relative path; job logs hold timings and host names."""
    return {
        path.relative_to(outdir): path.read_bytes()
        for path in sorted(outdir.rglob("*"))
        if path.is_file() and path.relative_to(outdir).parts[0] != "logs"
    }


@pytest.fixture(scope="module")
def runs(slurm, tmp_path_factory):
    """The demo run locally and through SLURM into two fresh output folders."""
    plugin = run([sys.executable, "-c", "import snakemake_executor_plugin_slurm"], timeout=60)
    assert plugin.returncode == 0, (
        "SLURM is up but snakemake-executor-plugin-slurm is not installed: pip install -e '.[test]'"
    )
    base = tmp_path_factory.mktemp("slurm")
    local = run(
        [
            *(sys.executable, "-m", "snakemake", "--snakefile", REPO / "Snakefile"),
            *("--cores", "2", "--config", f"outdir={base / 'local'}"),
        ],
        timeout=300,
    )
    assert local.returncode == 0, local.stderr[-3000:]

    # The committed profile reads the partition from sbatch's own variable; this cluster has no
    # accounting database, hence no account and squeue for job status (start script's header).
    env = {**os.environ, "SBATCH_PARTITION": slurm}
    env.pop("SBATCH_ACCOUNT", None)
    cluster = run(
        [
            *(sys.executable, "-m", "snakemake", "--snakefile", REPO / "Snakefile"),
            *("--profile", SLURM_PROFILE, "--jobs", "4", "--latency-wait", "5"),
            # the profile's group jobs ask for 4 cores; this machine's one node has 2
            *("--cores", "2"),
            *("--slurm-no-account", "--slurm-status-command", "squeue"),
            # the profile's 40 s wait before the first status check suits a busy cluster, not this
            *("--slurm-init-seconds-before-status-checks", "2"),
            *("--slurm-keep-successful-logs", "--slurm-logdir", base / "slurm_logs"),
            *("--config", f"outdir={base / 'cluster'}"),
        ],
        timeout=CLUSTER_RUN_TIMEOUT_S,
        env=env,
    )
    assert cluster.returncode == 0, cluster.stderr[-5000:]
    return {"base": base, "local": local.stderr, "cluster": cluster.stderr}


def test_every_job_with_code_ran_as_a_slurm_job(runs):
    log = runs["cluster"]
    submitted = {job: (slurm_id, Path(path)) for job, slurm_id, path in SUBMITTED.findall(log)}
    finished = dict(FINISHED.findall(log))
    local_rules = set(dict(FINISHED.findall(runs["local"])).values())

    assert TARGET_RULE in local_rules, "the local run's log does not list its jobs"
    assert set(finished.values()) == local_rules, (
        "the cluster run ran other jobs than the local run"
    )
    assert len({slurm_id for slurm_id, _ in submitted.values()}) == len(submitted)
    groups = {job: v for job, v in submitted.items() if job not in finished}
    singles = {job: v for job, v in submitted.items() if job in finished}
    patient_jobs = {job for job, rule in finished.items() if rule == PATIENT_RULE}
    not_submitted = {rule for job, rule in finished.items() if job not in submitted}
    # every patient ran inside a group job; the others each as a SLURM job; `all` on this host
    assert not_submitted == {TARGET_RULE, PATIENT_RULE}, f"ran outside SLURM: {not_submitted}"
    assert groups and len(groups) < len(patient_jobs), (
        f"{len(patient_jobs)} patient jobs in {len(groups)} SLURM jobs: not grouped"
    )
    in_groups = set()
    for slurm_id, slurm_log in groups.values():
        # slurmd writes sbatch's --output file: it exists only if SLURM ran the group
        # the plugin names a group job's folder group_<group>_<its rules>
        folder = f"group_{PATIENT_GROUP}_{PATIENT_RULE}"
        assert slurm_log == runs["base"] / "slurm_logs" / folder / f"{slurm_id}.log"
        text = slurm_log.read_text()
        in_groups |= {patient for patient in re.findall(r"wildcards: patient=(\S+)", text)}
        assert f"rule {PATIENT_RULE}:" in text, f"SLURM job {slurm_id} ran no patient"
    assert len(in_groups) == len(patient_jobs), f"patients run in SLURM groups: {in_groups}"

    for job, (slurm_id, slurm_log) in singles.items():
        rule = finished[job]
        assert slurm_log == runs["base"] / "slurm_logs" / f"rule_{rule}" / f"{slurm_id}.log"
        text = slurm_log.read_text()
        assert f"rule {rule}:" in text, f"SLURM job {slurm_id} log does not show rule {rule}"
        assert f"Finished jobid: 0 (Rule: {rule})" in text, f"SLURM job {slurm_id} did not finish"


def test_cluster_outputs_are_byte_identical_to_the_local_run(runs):
    local = output_files(runs["base"] / "local")
    cluster = output_files(runs["base"] / "cluster")
    assert any(path.parts[0] == "patients" for path in local), "the local run wrote no reports"
    assert sorted(cluster) == sorted(local)
    different = [str(path) for path in local if local[path] != cluster[path]]
    assert not different, f"cluster outputs differ from the local run: {different}"
