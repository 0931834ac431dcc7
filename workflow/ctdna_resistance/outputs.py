"""Write outputs all-or-nothing: a failed step leaves no partial file behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path


def terminate_as_interrupt() -> None:
    """Make SIGTERM raise KeyboardInterrupt, so `atomic_outputs` removes its temporaries.

    Snakemake and cluster schedulers stop a job with SIGTERM, whose default action ends Python
    without running any cleanup; as an exception it unwinds like Ctrl-C.
    """

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def _remove_stale_temporaries(path: Path) -> None:
    """Temporaries a killed run (SIGKILL, node loss) left beside ``path``: only this output's."""
    for stale in path.parent.glob(f".{path.name}.*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_outputs(*paths):
    """Yield temporary paths beside ``paths``; move them into place only if the block succeeds.

    A path ending in '/' is a directory output: the temporary is a directory, and an existing
    directory of that name is replaced whole.
    """
    final = [Path(p) for p in paths]
    temps = []
    try:
        for path, raw in zip(final, paths, strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_temporaries(path)
            if str(raw).endswith("/"):
                temps.append(Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)))
            else:
                handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
                os.close(handle)
                temps.append(Path(name))
        yield temps
    except BaseException:
        for temp in temps:
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                temp.unlink(missing_ok=True)
        raise
    for temp, path in zip(temps, final, strict=True):
        if temp.is_dir():
            if path.exists():
                shutil.rmtree(path)
            temp.chmod(0o755)
        else:
            temp.chmod(0o644)
        os.replace(temp, path)
