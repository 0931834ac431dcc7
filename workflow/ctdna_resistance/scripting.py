"""The boundary between a Snakemake job and the package: logging and error printing."""

from __future__ import annotations

import logging
import sys

from ctdna_resistance.errors import InputError
from ctdna_resistance.outputs import terminate_as_interrupt


def run_logged(log_path, step, *args) -> int:
    """Run ``step(*args)`` with stderr in the job's log; bad input returns 1 with one line.

    Any other exception propagates (its traceback goes to the log, as stderr is the log).
    """
    log = open(log_path, "w")  # noqa: SIM115 - kept open for the life of the job
    sys.stderr = log
    logging.basicConfig(
        stream=log, level=logging.INFO, format="%(levelname)s %(message)s", force=True
    )
    terminate_as_interrupt()
    try:
        step(*args)
    except InputError as exc:
        message = f"ctdna-resistance: error: {exc.message}"
        print(message, file=log, flush=True)
        print(message, file=sys.__stderr__, flush=True)
        return 1
    return 0


def run_step(snakemake, step, *args) -> None:
    """``run_logged`` for a Snakemake `script:` job: the log is the rule's first log file."""
    code = run_logged(snakemake.log[0], step, *args)
    if code:
        sys.exit(code)
