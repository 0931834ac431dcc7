"""The validation grid's Done-means inequalities, on a small grid (the full one is by hand)."""

import math
from pathlib import Path

import pytest
from conftest import load_script

GRID_SCRIPT = Path(__file__).parents[1] / "validation" / "power_grid.py"


@pytest.fixture(scope="module")
def power_grid():
    return load_script(GRID_SCRIPT)


@pytest.fixture(scope="module")
def rows(power_grid):
    # Cells chosen to span power from ~10% to ~100%, including VAFs between the fewest supported
    # reads and the LoD95, where a naive "earlier LoD95 <= VAF now" rule loses most new calls.
    return power_grid.grid_rows(
        depths=(1000, 5000), vafs=(0.001, 0.0025, 0.01), error_rates=(5e-4, 1e-3), n_sim=2000
    )


def test_sensitivity_for_new_calls_is_within_5_points_of_the_binomial_power(rows):
    assert len(rows) == 12
    assert min(r["power"] for r in rows) < 0.2 and max(r["power"] for r in rows) > 0.99
    for r in rows:
        assert abs(r["sensitivity"] - r["power"]) <= 0.05, r


def test_false_new_rate_per_alteration_per_draw_is_at_most_alpha(rows):
    for r in rows:
        assert r["false_new_exact"] <= r["alpha"], r
        noise = 3 * math.sqrt(r["alpha"] * (1 - r["alpha"]) / r["n_sim"])
        assert r["false_new"] <= r["alpha"] + noise, r
    # the false-new rate is the detection test's size at the second draw, not zero
    assert max(r["false_new_exact"] for r in rows) > 1e-4


def test_markdown_table_has_one_line_per_cell(power_grid, rows):
    lines = power_grid.markdown_table(rows).splitlines()
    assert len(lines) == 2 + len(rows)
    assert lines[2].startswith("| 5e-04 | 1000 | 0.10% |")
    assert "percentage points" in power_grid.summary(rows)
