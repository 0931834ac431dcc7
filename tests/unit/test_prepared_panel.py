"""The prepared panel (rule prepare_panel) gives the same Panel as the YAML it came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.panel import load_panel, load_prepared_panel, prepare_panel

PANEL = Path(__file__).resolve().parents[2] / "panels" / "anti_egfr_crc.yaml"


@pytest.mark.parametrize("build", ["GRCh38", "GRCh37"])
def test_prepared_panel_equals_the_yaml_panel_in_both_builds(tmp_path, build):
    prepared = tmp_path / "panel.json"
    prepare_panel(PANEL, prepared)
    from_json = load_prepared_panel(prepared, build)
    from_yaml = load_panel(PANEL, build)
    assert vars(from_json).keys() == vars(from_yaml).keys()
    for name, value in vars(from_yaml).items():
        assert getattr(from_json, name) == value, name
    # provenance names the YAML the user gave, not the workflow's JSON
    assert from_json.path == str(PANEL)


def test_preparing_twice_gives_identical_bytes(tmp_path):
    prepare_panel(PANEL, tmp_path / "a.json")
    prepare_panel(PANEL, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_a_bad_panel_is_refused_when_prepared(tmp_path):
    bad = tmp_path / "panel.yaml"
    bad.write_text("name: x\n")
    with pytest.raises(InputError) as error:
        prepare_panel(bad, tmp_path / "panel.json")
    assert str(bad) in error.value.message
    assert not (tmp_path / "panel.json").exists()


@pytest.mark.parametrize(
    "content, problem",
    [("{not json", "prepared panel unreadable"), (json.dumps({"format": "x"}), "not a prepared")],
)
def test_a_foreign_or_broken_json_is_refused(tmp_path, content, problem):
    path = tmp_path / "panel.json"
    path.write_text(content)
    with pytest.raises(InputError) as error:
        load_prepared_panel(path, "GRCh38")
    assert problem in error.value.message
