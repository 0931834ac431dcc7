"""schema_check.compile_check gives jsonschema's verdict, keyword by keyword.

Each schema below uses one keyword (or a combination) of those the compiler understands, and each
is checked against a grid of values where JSON Schema's rules bite: True is not 1, 1.0 is an
integer, bounds and patterns ignore other types, `pattern` searches. A schema with a keyword the
compiler does not know is left to jsonschema (None). The repository's own schemas are held to
jsonschema in test_row_schema_check.py and test_schema_refs_inlined.py.
"""

from __future__ import annotations

import itertools

import jsonschema
import pytest

from ctdna_resistance.schema_check import compile_check
from ctdna_resistance.schemas import load_schema

CHECKER = jsonschema.Draft202012Validator.FORMAT_CHECKER

VALUES = [
    None, True, False, 0, 1, -1, 2, 0.0, 1.0, 1.5, -0.5, 3, 1e300, float("inf"), "", "a", "1",
    "abc", "ABC", "2024-01-31", "2024-02-30", "x2024-01-31", "true", [], [1], [1, 2, 3], ["a"],
    [None], [True], [{}], {}, {"a": 1}, {"a": "x"}, {"b": 1}, {"a": 1, "b": 2}, {"a": None},
    {"a": [1]}, {"a": {"a": 1}},
]  # fmt: skip

SCHEMAS = [
    True, False, {},
    {"type": "integer"}, {"type": "number"}, {"type": "string"}, {"type": "boolean"},
    {"type": "null"}, {"type": "array"}, {"type": "object"}, {"type": ["number", "null"]},
    {"type": ["boolean", "null"]}, {"type": ["integer", "string"]},
    {"enum": ["a", "b"]}, {"enum": [1, "a", None]}, {"enum": [True]}, {"enum": [0]},
    {"enum": [1.0]}, {"const": True}, {"const": 1}, {"const": "1"}, {"const": None},
    {"minimum": 0}, {"maximum": 1}, {"exclusiveMinimum": 0}, {"exclusiveMaximum": 1},
    {"type": "number", "minimum": 0, "maximum": 1},
    {"minLength": 1}, {"maxLength": 2}, {"pattern": "b"}, {"pattern": "^[a-z]+$"},
    {"format": "date"}, {"type": "string", "format": "date"},
    {"required": ["a"]}, {"properties": {"a": {"type": "integer"}}},
    {"properties": {"a": {"type": "integer"}}, "additionalProperties": False},
    {"additionalProperties": {"type": "string"}}, {"additionalProperties": False},
    {"type": "object", "required": ["a"], "properties": {"a": {"type": ["object", "null"],
     "properties": {"a": {"const": 1}}}}},
    {"items": {"type": "integer"}}, {"items": False}, {"minItems": 1}, {"maxItems": 1},
    {"type": "array", "items": {"type": "object", "additionalProperties": False}},
    {"allOf": [{"type": "number"}, {"minimum": 1}]}, {"allOf": [{"type": "integer"}], "maximum": 2},
    {"title": "x", "description": "y", "default": 3, "type": "integer"},
]  # fmt: skip


@pytest.mark.parametrize("schema", SCHEMAS, ids=[str(s) for s in SCHEMAS])
def test_same_verdict_as_jsonschema(schema):
    check = compile_check(schema, CHECKER)
    assert check is not None
    validator = jsonschema.Draft202012Validator(schema, format_checker=CHECKER)
    disagree = [v for v in VALUES if check(v) != validator.is_valid(v)]
    assert disagree == []


def test_nested_documents_agree_in_every_combination():
    schema = {
        "type": "object",
        "required": ["id", "rows"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^[A-Z]+$"},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["n"],
                    "properties": {"n": {"type": "integer", "minimum": 0}, "x": {"enum": [1, 2]}},
                },
            },
        },
    }
    check = compile_check(schema, CHECKER)
    validator = jsonschema.Draft202012Validator(schema, format_checker=CHECKER)
    ids = ["AB", "ab", 5, None]
    rows = [[], [{"n": 0}], [{"n": -1}], [{"n": 1, "x": 2}], [{"n": 1, "x": True}], [{}], [5]]
    extra = [{}, {"more": 1}]
    documents = [{"id": i, "rows": r, **e} for i, r, e in itertools.product(ids, rows, extra)] + [
        {"id": "AB"},
        {"rows": []},
        [],
        "AB",
    ]
    verdicts = [(check(d), validator.is_valid(d)) for d in documents]
    assert all(mine == theirs for mine, theirs in verdicts)
    assert {mine for mine, _ in verdicts} == {True, False}


@pytest.mark.parametrize(
    "schema",
    [
        {"uniqueItems": True},
        {"oneOf": [{"type": "integer"}]},
        {"$ref": "#/$defs/x", "$defs": {"x": {}}},
        {"properties": {"a": {"patternProperties": {"^x": {}}}}},
        {"type": "decimal"},
        {"enum": [[1]]},
    ],
)
def test_a_keyword_it_does_not_know_leaves_the_schema_to_jsonschema(schema):
    assert compile_check(schema, CHECKER) is None


def test_the_repository_schemas_it_compiles():
    # the report, config and sheet schemas are compiled; the panel's (uniqueItems) is not
    compiled = {
        name: compile_check(load_schema(name), CHECKER) is not None
        for name in ("report", "config", "samples", "treatments", "panel")
    }
    # the report schema has $refs: compiled once they are inlined (schemas._fast_check)
    assert compiled == {
        "report": False,
        "config": True,
        "samples": True,
        "treatments": True,
        "panel": False,
    }
