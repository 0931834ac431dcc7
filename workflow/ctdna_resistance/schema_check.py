"""A JSON Schema turned into one Python predicate: jsonschema's verdict, valid or not, fast.

Every patient job checks each draw's report against workflow/schemas/report.schema.yaml before
writing it; jsonschema walks the schema anew for every node of every report, which was a sixth of
a patient job's CPU (issue 19). `compile_check` builds nested closures once per schema instead:
2.9 ms a report becomes 0.34 ms. It understands the keywords this repository's schemas use, with
Draft 2020-12's meaning as jsonschema implements it (type, enum, const, properties, required,
additionalProperties, items, allOf, minimum and the other bounds, minLength, maxLength, pattern,
format, minItems, maxItems); a schema with any other keyword, or with a `$ref` left in it, gets
None, and jsonschema decides. It says only yes or no: the words of an error still come from
jsonschema (schemas.schema_errors), and tests hold its verdict to jsonschema's on thousands of
documents.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable

Check = Callable[[object], bool]

# keywords that constrain nothing (annotations), and $defs, which only a $ref would use
_IGNORED = {"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples"}
_BOUNDS = {
    "minimum": lambda value, bound: value >= bound,
    "maximum": lambda value, bound: value <= bound,
    "exclusiveMinimum": lambda value, bound: value > bound,
    "exclusiveMaximum": lambda value, bound: value < bound,
}


class _Unsupported(Exception):
    """The schema uses a keyword (or form of one) the compiler does not handle."""


def _is_integer(value) -> bool:
    # Draft 6 and later: 1.0 is an integer; a bool is never a number
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Number)


_TYPES: dict[str, Check] = {
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "integer": _is_integer,
    "null": lambda value: value is None,
    "number": _is_number,
    "object": lambda value: isinstance(value, dict),
    "string": lambda value: isinstance(value, str),
}

# A unique stand-in for True and False, so that 1 != True and 0 != False (jsonschema's `equal`)
_TRUE, _FALSE = object(), object()


def _unbool(value):
    return _TRUE if value is True else _FALSE if value is False else value


def _scalar(value) -> bool:
    return value is None or isinstance(value, (str, bool, int, float))


def _equal_to(expected) -> Check:
    """jsonschema's `equal` against a scalar: type-aware for bools, strings only equal strings."""
    if isinstance(expected, str):
        return lambda value: isinstance(value, str) and value == expected
    key = _unbool(expected)
    return lambda value: not isinstance(value, (str, list, dict)) and _unbool(value) == key


def _one_of_values(values: list) -> Check:
    if not all(_scalar(v) for v in values):
        raise _Unsupported("enum of arrays or objects")
    strings = frozenset(v for v in values if isinstance(v, str))
    others = [_equal_to(v) for v in values if not isinstance(v, str)]
    if not others:
        return lambda value: isinstance(value, str) and value in strings
    return lambda value: (
        (isinstance(value, str) and value in strings) or any(check(value) for check in others)
    )


def _type_check(types) -> Check:
    names = [types] if isinstance(types, str) else list(types)
    try:
        checks = [_TYPES[name] for name in names]
    except KeyError as error:
        raise _Unsupported(f"type {error}") from None
    if len(checks) == 1:
        return checks[0]
    return lambda value: any(check(value) for check in checks)


def _object_checks(schema: dict, format_checker) -> list[Check]:
    checks: list[Check] = []
    required = tuple(schema.get("required", ()))
    if required:
        checks.append(lambda value: all(key in value for key in required))
    properties = {
        key: _compile(sub, format_checker) for key, sub in schema.get("properties", {}).items()
    }
    extra = schema.get("additionalProperties", True)
    if extra is True:
        extra_check = None
    elif extra is False:
        extra_check = False
    else:
        extra_check = _compile(extra, format_checker)
    if properties or extra_check is not None:

        def check_members(value) -> bool:
            for key, member in value.items():
                check = properties.get(key)
                if check is not None:
                    if not check(member):
                        return False
                elif extra_check is False or (extra_check is not None and not extra_check(member)):
                    return False
            return True

        checks.append(check_members)
    return checks


def _length_checks(schema: dict, least: str, most: str) -> list[Check]:
    """minItems/maxItems or minLength/maxLength: bounds on len(value)."""
    checks: list[Check] = []
    if least in schema:
        low = schema[least]
        checks.append(lambda value: len(value) >= low)
    if most in schema:
        high = schema[most]
        checks.append(lambda value: len(value) <= high)
    return checks


def _array_checks(schema: dict, format_checker) -> list[Check]:
    checks = _length_checks(schema, "minItems", "maxItems")
    items = schema.get("items", True)
    if items is False:
        checks.append(lambda value: not value)
    elif items is not True:
        item_check = _compile(items, format_checker)
        checks.append(lambda value: all(item_check(item) for item in value))
    return checks


def _string_checks(schema: dict) -> list[Check]:
    checks = _length_checks(schema, "minLength", "maxLength")
    if "pattern" in schema:
        search = re.compile(schema["pattern"]).search  # jsonschema's "pattern" is re.search
        checks.append(lambda value: search(value) is not None)
    return checks


_OBJECT_KEYS = {"required", "properties", "additionalProperties"}
_ARRAY_KEYS = {"items", "minItems", "maxItems"}
_STRING_KEYS = {"minLength", "maxLength", "pattern"}
_KNOWN = (_IGNORED | _OBJECT_KEYS | _ARRAY_KEYS | _STRING_KEYS | set(_BOUNDS)) | {
    "type",
    "enum",
    "const",
    "allOf",
    "format",
}


def _all(checks: list[Check]) -> Check:
    if not checks:
        return lambda value: True
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _compile(schema, format_checker) -> Check:
    if schema is True:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict):
        raise _Unsupported("a schema that is not an object")
    unknown = set(schema) - _KNOWN
    if unknown:
        raise _Unsupported(", ".join(sorted(unknown)))
    checks: list[Check] = []
    if "type" in schema:
        checks.append(_type_check(schema["type"]))
    if "enum" in schema:
        checks.append(_one_of_values(list(schema["enum"])))
    if "const" in schema:
        checks.append(_one_of_values([schema["const"]]))
    for bound, holds in _BOUNDS.items():
        if bound in schema:
            limit = schema[bound]
            checks.append(
                lambda value, limit=limit, holds=holds: not _is_number(value) or holds(value, limit)
            )
    object_checks = _object_checks(schema, format_checker)
    if object_checks:
        whole = _all(object_checks)
        checks.append(lambda value: not isinstance(value, dict) or whole(value))
    array_checks = _array_checks(schema, format_checker)
    if array_checks:
        whole_array = _all(array_checks)
        checks.append(lambda value: not isinstance(value, list) or whole_array(value))
    string_checks = _string_checks(schema)
    if string_checks:
        whole_string = _all(string_checks)
        checks.append(lambda value: not isinstance(value, str) or whole_string(value))
    if "format" in schema and format_checker is not None:
        name = schema["format"]
        checks.append(lambda value: format_checker.conforms(value, name))
    for sub in schema.get("allOf", ()):
        checks.append(_compile(sub, format_checker))
    return _all(checks)


def compile_check(schema, format_checker=None) -> Check | None:
    """A predicate with jsonschema's verdict (Draft 2020-12, with ``format_checker``) on
    ``schema``, or None if the schema uses what the compiler does not understand."""
    try:
        return _compile(schema, format_checker)
    except _Unsupported:
        return None
