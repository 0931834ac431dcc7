"""Shared test helpers: where the real files written by other tools live."""

from __future__ import annotations

from pathlib import Path

import pytest

# <repo>/../shared/data: real caller outputs, read in place and never copied into the repo.
SHARED_DATA = Path(__file__).parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real files from other tools; skips the test when it is not mounted."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
