"""JSON Schemas shipped in workflow/schemas/, and validation with one-line messages."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jsonschema
import yaml

from ctdna_resistance.errors import InputError

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"


@cache
def load_schema(name: str) -> dict:
    """The schema ``workflow/schemas/<name>.schema.yaml`` as a dict."""
    with open(SCHEMA_DIR / f"{name}.schema.yaml") as handle:
        # libyaml when PyYAML has it: every patient job loads the report schema
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache  # built once per schema: a sheet of 60,000 rows is checked row by row (issue 19)
def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        load_schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def schema_errors(instance, name: str) -> list[str]:
    """Every violation of schema ``name`` by ``instance``, as 'field: message' strings, sorted."""
    found = []
    for error in _validator(name).iter_errors(instance):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        found.append(f"{where}: {error.message}")
    return sorted(found)


def validate(instance, name: str, path, *, record=None, fix: str) -> None:
    """Raise InputError naming ``path`` (and ``record``) on the first schema violation."""
    errors = schema_errors(instance, name)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(path, f"{errors[0]}{more}", fix, record=record)
