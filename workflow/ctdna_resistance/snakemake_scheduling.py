"""Snakemake's scheduler on a local run: no job-rate limit (issue 19).

Snakemake's ``--max-jobs-per-timespan`` (default ``100/1s``) paces submissions to a cluster's
queue. On one machine the cores bound the running jobs already, and in Snakemake 9.27 the limit
also costs: every scheduling round that finds ready jobs re-arms a 1-s timer whose firing starts
another round (``JobScheduler.schedule``), so each finished job adds a round per second while
jobs wait for a core, and each round sizes the input files of the jobs it considers
(``job_selector``), even when no core is free. Measured on 500 patients x 6 draws, 2 cores, runs
alternating: Snakemake's own process took 29.8 and 28.3 CPU-s with the limit and 12.7 and 13.2
without; the runs took 57.6 and 56.4 s against 46.2 and 48.3 s.

Without the limit a round comes only when a job finishes, and a round starts at most
``--scheduler-subsample`` jobs (the local profile's 4). The timer's extra rounds used to fill
the other cores within a second; so that the first round can fill them, a subsample below the
core count is raised to it (each round then sizes the inputs of that many ready jobs).

``drop_local_rate_limit`` runs in the workflow's ``onstart`` hook (after Snakemake built its
scheduler, before the first round). It keeps any limit other than the default (a user who
passes ``100/1s`` itself cannot be told from the default) and any limit on a cluster; should
Snakemake's scheduler change shape, it leaves the limit on and says so.
"""

from __future__ import annotations

import sys

# Snakemake's --max-jobs-per-timespan default: 100 jobs per 1 s
DEFAULT_RATE_LIMIT = (100, 1)


def drop_local_rate_limit(workflow, logger) -> bool:
    """Turn off the default job-rate limit of a local run; True if it was turned off."""
    settings = getattr(workflow, "scheduling_settings", None)
    limit = getattr(settings, "max_jobs_per_timespan", None)
    if not workflow.local_exec or limit is None:
        return False
    if (limit.max_jobs, limit.timespan) != DEFAULT_RATE_LIMIT:
        return False  # the user's own limit
    scheduler = getattr(workflow, "scheduler", None)
    if not hasattr(scheduler, "job_rate_limiter"):
        logger.info(
            "ctdna-resistance: Snakemake's job-rate limit is left on "
            "(this Snakemake's scheduler has no job_rate_limiter)"
        )
        return False
    if scheduler.job_rate_limiter is None:
        return False  # none to drop (--touch)
    scheduler.job_rate_limiter = None
    note = ""
    cores = getattr(scheduler, "resources", {}).get("_cores")
    subsample = getattr(scheduler, "subsample", None)
    if isinstance(cores, int) and subsample and subsample < cores < sys.maxsize:
        scheduler.subsample = cores  # one round can fill every core
        note = f"; a scheduling round looks at {cores} ready jobs (--cores), not {subsample}"
    logger.info(
        "ctdna-resistance: local run, Snakemake's job-rate limit (100/1s) is off: "
        f"the cores bound the jobs (ctdna_resistance/snakemake_scheduling.py){note}"
    )
    return True
