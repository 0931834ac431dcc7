"""The compiled check (schemas.is_valid, schema_check.py) gives jsonschema's verdict on the
sample-sheet and treatment schemas for every kind of value a sheet can hold (issue 19: it replaced
jsonschema on the valid path of a 60,000-row sheet; messages still come from jsonschema)."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from ctdna_resistance.schemas import _fast_check, is_valid, load_schema, schema_errors

REPO = Path(__file__).resolve().parents[2]

VALUES = [
    "", " ", "P001", "P001-T0", "p.1_x", "-P001", ".hidden", "a" * 64, "a" * 65, "a/b", "a b",
    "P0<1>", "2024-01-31", "2024-1-31", "24-01-31", "2024-01-31x", "x2024-01-31", "0", "0.12",
    "1", "1.0", "1.5", "-0.1", ".5", "mutect2", "MUTECT2", "generic", "vcf/a.vcf.gz", "cetuximab",
    "2024-01-31\n", "ünïcode", 5, 0.5, None, True, ["a"],
]  # fmt: skip


def rows_of(name: str) -> list[dict]:
    """Rows around a valid one: each property set to each value, each required key dropped,
    an extra column; plus every row of the demo's sheets and of the bad-input corpus."""
    schema = load_schema(name)
    base = {
        "samples": {"patient": "P001", "sample": "P001-T0", "collection_date": "2024-01-31"},
        "treatments": {"patient": "P001", "agent": "cetuximab", "start_date": "2024-01-31"},
    }[name]
    rows = [base, {**base, "extra_column": "anything"}]
    rows += [{k: v for k, v in base.items() if k != drop} for drop in schema["required"]]
    for key, value in itertools.product(schema["properties"], VALUES):
        rows.append({**base, key: value})
    files = {"samples": ["test_data/samples.tsv"], "treatments": ["test_data/treatments.tsv"]}
    corpus = sorted(
        (REPO / "tests" / "bad_inputs").glob(f"{name[:-1] if name == 'samples' else 'treatments'}*")
    )
    for path in [REPO / f for f in files[name]] + corpus:
        with open(path, newline="", errors="replace") as handle:
            rows += [dict(r) for r in csv.DictReader(handle, delimiter="\t")]
    return rows


@pytest.mark.parametrize("name", ["samples", "treatments"])
def test_fast_check_agrees_with_jsonschema(name):
    assert _fast_check(name) is not None, "the schema left the fast check's subset"
    rows = rows_of(name)
    assert len(rows) > 200
    disagree = [r for r in rows if is_valid(r, name) != (not schema_errors(r, name))]
    assert disagree == []
    # both verdicts occur: the check is not trivially true or false
    verdicts = {is_valid(r, name) for r in rows}
    assert verdicts == {True, False}


def test_schemas_outside_the_subset_use_jsonschema():
    # the panel schema asks for uniqueItems and minProperties: no compiled check, jsonschema decides
    assert _fast_check("panel") is None
    assert not is_valid({"genes": {}}, "panel")
    assert _fast_check("config") is not None
    assert not is_valid({"genome_build": "hg18"}, "config")
