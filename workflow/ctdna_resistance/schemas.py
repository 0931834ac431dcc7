"""JSON Schemas shipped in workflow/schemas/, and validation with one-line messages."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jsonschema
import yaml

from ctdna_resistance.errors import InputError
from ctdna_resistance.schema_check import compile_check

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"


@cache
def load_schema(name: str) -> dict:
    """The schema ``workflow/schemas/<name>.schema.yaml`` as a dict."""
    with open(SCHEMA_DIR / f"{name}.schema.yaml") as handle:
        # libyaml when PyYAML has it: every patient job loads the report schema
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def inline_refs(schema: dict) -> dict:
    """``schema`` with each local ``$ref`` to ``#/$defs/<name>`` replaced by what it names.

    The same constraints (a ``$ref`` beside other keywords becomes ``allOf`` with them, as 2020-12
    applies both; a recursive one is left as it is, with ``$defs`` kept for it): jsonschema then
    skips its reference lookups, which were two thirds of checking a report (issue 19).
    """
    defs = schema.get("$defs", {})

    def resolve(node, stack: tuple[str, ...]):
        if isinstance(node, list):
            return [resolve(item, stack) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in defs and "/" not in name and name not in stack:
                target = resolve(defs[name], (*stack, name))
                rest = {k: resolve(v, stack) for k, v in node.items() if k != "$ref"}
                return {"allOf": [target], **rest} if rest else target
        return {k: (v if k == "$defs" else resolve(v, stack)) for k, v in node.items()}

    return resolve(schema, ())


@cache  # built once per schema: a sheet of 60,000 rows is checked row by row (issue 19)
def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        inline_refs(load_schema(name)),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


@cache  # built once per schema: a sheet of 60,000 rows is checked row by row (issue 19)
def _fast_check(name: str):
    """A predicate with jsonschema's verdict on schema ``name`` (schema_check), or None where the
    schema uses a keyword the compiler does not know. Valid or not only, 8-40x faster than
    jsonschema: a 60,000-row sheet, 12 s -> 0.3 s; a draw's report, 2.9 ms -> 0.34 ms (issue 19).
    """
    return compile_check(
        inline_refs(load_schema(name)), jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def is_valid(instance, name: str) -> bool:
    """Whether ``instance`` satisfies schema ``name`` (the compiled check where there is one)."""
    check = _fast_check(name)
    if check is not None:
        return check(instance)
    return _validator(name).is_valid(instance)


def schema_errors(instance, name: str) -> list[str]:
    """Every violation of schema ``name`` by ``instance``, as 'field: message' strings, sorted."""
    check = _fast_check(name)
    if check is not None and check(instance):
        return []  # jsonschema only to word what is wrong
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
