"""Shared test helpers: where the real files written by other tools live."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (a red CI run can be reproduced, a green one
# stays green); HYPOTHESIS_PROFILE=explore draws new ones, to hunt for bugs by hand.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

REPO = Path(__file__).resolve().parents[1]
# <repo>/../shared/data: real caller outputs, read in place and never copied into the repo.
SHARED_DATA = Path(__file__).parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real files from other tools; skips the test when it is not mounted."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


def load_script(path: Path) -> ModuleType:
    """Import a script that is not part of a package (tests/validation/*.py) as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def draw_folder(outdir, sample: str) -> Path:
    """A draw's tables (alterations.tsv ...) in outdir: patients/{patient}/samples/{sample}."""
    found = list(Path(outdir).glob(f"patients/*/samples/{sample}"))
    assert len(found) == 1, f"draw {sample}: {len(found)} folders under {outdir}/patients"
    return found[0]


@pytest.fixture(scope="session")
def demo_results(tmp_path_factory) -> Path:
    """The demo (`snakemake --cores 2`, the default config), run once per test session with the
    real snakemake; the modules that check its outputs share it and must not change them."""
    out = tmp_path_factory.mktemp("demo") / "results"
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--snakefile", str(REPO / "Snakefile"),
         "--config", f"outdir={out}"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return out
