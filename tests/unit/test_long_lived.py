"""long_lived(): the collector is paused inside and left as it was after; what lives is frozen."""

from __future__ import annotations

import gc

import pytest

from ctdna_resistance.long_lived import long_lived


@pytest.fixture(autouse=True)
def collector_as_it_was():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    gc.enable() if enabled else gc.disable()


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_collector_is_paused_inside_and_as_before_after(enabled_before):
    gc.enable() if enabled_before else gc.disable()
    with long_lived():
        assert not gc.isenabled()
    assert gc.isenabled() is enabled_before


def test_what_the_block_made_is_frozen_out_of_the_collectors_passes():
    gc.unfreeze()
    with long_lived():
        rows = [{"patient": f"P{i}", "files": [f"/data/P{i}.vcf"]} for i in range(1000)]
    frozen = gc.get_freeze_count()
    assert frozen >= 2 * len(rows)  # each row's dict and list
    walked = {id(o) for o in gc.get_objects()}  # what the collector's passes walk
    assert not any(id(row) in walked for row in rows)


def test_an_error_inside_still_restores_the_collector():
    gc.enable()
    with pytest.raises(ValueError), long_lived():
        raise ValueError("a bad sheet")
    assert gc.isenabled()
