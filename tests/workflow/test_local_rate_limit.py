"""A local run has no job-rate limit: Snakemake schedules once per finished job, not per second.

With Snakemake's default ``--max-jobs-per-timespan 100/1s``, every scheduling round that finds
ready jobs re-arms a 1-s timer whose firing starts another round, so rounds pile up while jobs
wait for a core (ctdna_resistance/snakemake_scheduling.py: on 500 patients, Snakemake's own
process took 29 CPU-s instead of 13). These run real Snakemake on a toy workflow that calls the
product's hook the way common.smk does, and count the rounds in Snakemake's debug log.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
JOBS = 6

SNAKEFILE = f"""\
import sys

sys.path.insert(0, {str(REPO / "workflow")!r})
from ctdna_resistance.snakemake_scheduling import drop_local_rate_limit
from snakemake.logging import logger


rule all:
    input:
        expand("out/{{i}}.txt", i=range({JOBS})),


rule job:
    output:
        "out/{{i}}.txt",
    shell:
        "sleep 0.5; touch {{output}}"


onstart:
    drop_local_rate_limit(workflow, logger)
"""

MESSAGE = "Snakemake's job-rate limit (100/1s) is off"


def run_toy(folder: Path, *extra: str) -> tuple[int, str]:
    """Run the toy (on one core unless ``extra`` says: the jobs queue for it); Snakemake's log
    and its round count."""
    (folder / "Snakefile").write_text(SNAKEFILE)
    cores = () if "--cores" in extra else ("--cores", "1")
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--verbose", *extra, *cores],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert len(list((folder / "out").iterdir())) == JOBS
    # Snakemake logs "Selected jobs: N" at every round that found ready jobs
    return log.count("Selected jobs:"), log


@pytest.mark.workflow
def test_a_local_run_schedules_once_per_finished_job(tmp_path):
    rounds, log = run_toy(tmp_path)
    assert MESSAGE in log
    # the first round, one per finished job (the last one readies `all`), and a spare; with the
    # limit on, each 0.5-s job waiting for the core adds a round per second (13 measured)
    assert rounds <= JOBS + 2, rounds


@pytest.mark.workflow
def test_a_limit_the_user_set_is_kept(tmp_path):
    rounds, log = run_toy(tmp_path, "--max-jobs-per-timespan", "50/1s")
    assert MESSAGE not in log
    assert "job-rate limit is left on" not in log  # kept on purpose, not for want of a scheduler
    assert rounds > JOBS + 2, rounds  # the limit's timer rounds are there (13 measured)


@pytest.mark.workflow
def test_the_first_round_fills_every_core_whatever_the_subsample(tmp_path):
    # without the limit's 1-s rounds, a subsample below the core count would leave cores idle
    # until the first jobs finish; the hook raises it to the core count
    _, log = run_toy(tmp_path, "--cores", "4", "--scheduler-subsample", "1")
    assert "a scheduling round looks at 4 ready jobs (--cores), not 1" in log
    selected = [int(n) for n in re.findall(r"Selected jobs: (\d+)", log)]
    assert selected[0] == 4, selected
