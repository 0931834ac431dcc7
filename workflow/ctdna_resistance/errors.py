"""The one exception type for bad input, printed at the CLI/script boundary without a traceback."""

from __future__ import annotations

import os


class InputError(Exception):
    """Bad input: says which file, which record, what is wrong and what to do."""

    def __init__(self, path: str | os.PathLike | None, problem: str, fix: str, *, record=None):
        self.path = None if path is None else str(path)
        self.record = record
        self.problem = problem
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = self.path or "<input>"
        if self.record is not None:
            where = f"{where}:{self.record}"
        return f"{where}: {self.problem}; {self.fix}"
