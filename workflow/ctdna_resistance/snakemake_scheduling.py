"""Snakemake's scheduler on a local run: no job-rate limit (issue 19).

Snakemake's ``--max-jobs-per-timespan`` (default ``100/1s``) paces submissions to a cluster's
queue. On one machine the cores bound the running jobs already, and in Snakemake 9.27 the limit
also costs: every scheduling round that finds ready jobs re-arms a 1-s timer whose firing starts
another round (``JobScheduler.schedule``), so each finished job adds a round per second while
jobs wait for a core, and each round sizes the input files of the jobs it considers
(``job_selector``), even when no core is free. Measured on 500 patients x 6 draws, 2 cores, runs
alternating: Snakemake's own process took 29.8 and 28.3 CPU-s with the limit and 12.7 and 13.2
without; the runs took 57.6 and 56.4 s against 46.2 and 48.3 s.

``drop_local_rate_limit`` runs in the workflow's ``onstart`` hook (after Snakemake built its
scheduler, before the first round). It keeps a limit the user set, and any limit on a cluster;
should Snakemake's scheduler change shape, it leaves the limit on and says so.
"""

from __future__ import annotations

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
    logger.info(
        "ctdna-resistance: local run, Snakemake's job-rate limit (100/1s) is off: "
        "the cores bound the jobs (ctdna_resistance/snakemake_scheduling.py)"
    )
    return True
