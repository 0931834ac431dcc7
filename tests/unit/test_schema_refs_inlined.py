"""The report schema with its $refs inlined (schemas.inline_refs, issue 19: two thirds of checking
a report was jsonschema's reference lookups) says exactly what the schema as written says: on the
demo's reports and on broken copies of them, the same errors, word for word. The compiled check
that patient jobs run first (schemas.is_valid, schema_check.py) gives the same verdict on each."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from ctdna_resistance.schemas import _fast_check, inline_refs, is_valid, load_schema

CHECKER = jsonschema.Draft202012Validator.FORMAT_CHECKER


def errors(validator, instance) -> list[str]:
    return sorted(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    )


def broken_copies(report: dict) -> list[dict]:
    """One mistake each, in the places the $refs point to (alterations, clones, qc, ...)."""
    found = []
    for key, value in report.items():
        for bad in (None, 5, "text", [], {}):
            if value != bad:
                found.append({**report, key: bad})
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for field in value[0]:
                changed = copy.deepcopy(report)
                changed[key][0][field] = {"unexpected": True}
                found.append(changed)
                removed = copy.deepcopy(report)
                del removed[key][0][field]
                found.append(removed)
        if isinstance(value, dict):
            for field in value:
                changed = copy.deepcopy(report)
                changed[key][field] = ["unexpected"]
                found.append(changed)
    found.append({k: v for k, v in report.items() if k != "sample"})
    return found


@pytest.fixture(scope="module")
def validators():
    schema = load_schema("report")
    return (
        jsonschema.Draft202012Validator(schema, format_checker=CHECKER),
        jsonschema.Draft202012Validator(inline_refs(schema), format_checker=CHECKER),
    )


def test_inlined_schema_has_no_local_refs_left():
    text = json.dumps({k: v for k, v in inline_refs(load_schema("report")).items() if k != "$defs"})
    assert '"$ref"' not in text


def test_same_errors_on_the_demo_reports_and_their_broken_copies(demo_results, validators):
    assert _fast_check("report") is not None, "the report schema left the compiler's keywords"
    as_written, inlined = validators
    reports = sorted(demo_results.glob("patients/*/reports/*.json"))
    assert len(reports) >= 10
    checked = failing = 0
    for path in reports[:6]:
        report = json.loads(path.read_text())
        assert errors(inlined, report) == errors(as_written, report) == []
        assert is_valid(report, "report")
        for broken in broken_copies(report):
            expected = errors(as_written, broken)
            assert errors(inlined, broken) == expected
            assert is_valid(broken, "report") == (not expected), expected
            checked += 1
            failing += bool(expected)
    assert checked > 500 and failing > 400  # the mistakes are mistakes


def test_a_ref_beside_other_keywords_keeps_both():
    schema = {
        "$defs": {"n": {"type": "integer"}},
        "properties": {"x": {"$ref": "#/$defs/n", "minimum": 3}, "y": {"$ref": "#/$defs/n"}},
    }
    inlined = inline_refs(schema)
    assert inlined["properties"]["x"] == {"allOf": [{"type": "integer"}], "minimum": 3}
    assert inlined["properties"]["y"] == {"type": "integer"}
    validator = jsonschema.Draft202012Validator(inlined)
    assert not validator.is_valid({"x": 2}) and not validator.is_valid({"x": 3.5})
    assert validator.is_valid({"x": 3, "y": 1})


def test_a_recursive_ref_is_left_for_jsonschema():
    schema = {
        "$defs": {
            "tree": {"type": "object", "properties": {"kids": {"items": {"$ref": "#/$defs/tree"}}}}
        },
        "$ref": "#/$defs/tree",
    }
    validator = jsonschema.Draft202012Validator(inline_refs(schema))
    assert validator.is_valid({"kids": [{"kids": []}]})
    assert not validator.is_valid({"kids": [{"kids": [{"kids": [5]}]}]})
