"""The boundary between a Snakemake `script:` and the package: logging and error printing."""

from __future__ import annotations

import logging
import sys

from ctdna_resistance.errors import InputError
from ctdna_resistance.outputs import terminate_as_interrupt


def run_step(snakemake, step, *args) -> None:
    """Run ``step(*args)`` with stderr in the rule's log; bad input exits 1 with one line."""
    log = open(snakemake.log[0], "w")  # noqa: SIM115 - kept open for the life of the job
    sys.stderr = log
    logging.basicConfig(stream=log, level=logging.INFO, format="%(levelname)s %(message)s")
    terminate_as_interrupt()
    try:
        step(*args)
    except InputError as exc:
        message = f"ctdna-resistance: error: {exc.message}"
        print(message, file=log, flush=True)
        print(message, file=sys.__stderr__, flush=True)
        sys.exit(1)
