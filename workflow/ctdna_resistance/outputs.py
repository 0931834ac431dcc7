"""Write outputs all-or-nothing: a failed step leaves no partial file behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


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
