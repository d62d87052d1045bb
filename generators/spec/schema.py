"""JSON Schema validation of a loaded spec.

The JSON Schema (``schema.json`` next to this module, Draft 2020-12) is the single
definition of the spec language. Every violation becomes a problem at the node it
is about, with rule ``schema/<keyword>``:

- ``required``: at the mapping that lacks the field, ``missing required field 'x'``;
- ``additionalProperties`` / ``unevaluatedProperties``: one problem per unknown key,
  at that key, ``unknown field 'x'`` (with a suggestion when one is close);
- ``oneOf`` / ``anyOf``: only the most relevant failure of the alternatives, so that
  one mistake gives one line.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from pathlib import Path
from typing import Iterator

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .load import Document
from .problems import Problem, sort_problems

SCHEMA_PATH = Path(__file__).with_name("schema.json")


@cache
def _load_schema_text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def load_schema() -> dict:
    """The spec language's JSON Schema (parsed once; callers get their own copy)."""
    return json.loads(_load_schema_text(str(SCHEMA_PATH)))


@cache
def _validator_for_text(text: str, checked: bool = False) -> Draft202012Validator:
    schema = json.loads(text)
    if not checked:
        Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _validator(schema: dict | None) -> Draft202012Validator:
    if schema is None:
        # The packaged schema is checked against the metaschema by the tests
        # (test_the_packaged_schema_is_valid_draft_2020_12), not on every run: that
        # check costs more than validating a whole spec.
        return _validator_for_text(_load_schema_text(str(SCHEMA_PATH)), checked=True)
    return _validator_for_text(json.dumps(schema, sort_keys=True))


def validate(doc: Document, schema: dict | None = None) -> list[Problem]:
    """Every schema violation in ``doc``, sorted; an empty list when the spec is valid."""
    validator = _validator(schema)
    problems: list[Problem] = []
    for error in validator.iter_errors(doc.data):
        problems.extend(_problems(doc, _focus(error)))
    return sort_problems(problems)


def _focus(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf, the failure of the alternative that came closest."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        kinds = [e.validator_value for e in error.context if e.validator == "type" and not e.relative_path]
        if len(kinds) == len(error.context):  # no alternative has the right type: say which would do
            names = sorted({k for kind in kinds for k in (kind if isinstance(kind, list) else [kind])})
            return ValidationError(
                error.message, validator="type", validator_value=names,
                instance=error.instance, path=error.absolute_path, schema=error.schema,
            )
        error = min(error.context, key=_closeness)
    return error


def _closeness(error: ValidationError) -> tuple:
    """Sort key: failures showing the alternative was the wrong kind last, deeper ones first."""
    depth = len(error.relative_path)
    wrong_kind = (depth == 0 and error.validator in ("type", "const", "enum")) or (
        depth == 1 and error.validator == "const"  # a discriminator field like `kind`
    )
    return (wrong_kind, -depth, error.validator in ("oneOf", "anyOf"))


_UNEXPECTED = re.compile(r"\((.*) (?:was|were) unexpected\)")


def _problems(doc: Document, error: ValidationError) -> Iterator[Problem]:
    parts = tuple(error.absolute_path)
    keyword = error.validator
    if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
        for key in _unknown_keys(error):
            yield doc.problem(parts + (key,), _unknown_message(key, error), f"schema/{keyword}")
        return
    if keyword == "required" and isinstance(error.validator_value, list):
        missing = [k for k in error.validator_value if isinstance(error.instance, dict) and k not in error.instance]
        for key in missing or error.validator_value[:1]:
            yield doc.problem(parts, f"missing required field '{key}'", "schema/required")
        return
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        # The failing "value" is a key: point at the key, and say that it is one.
        yield doc.problem(parts + (error.instance,), f"key {_readable(error)}", f"schema/{keyword}")
        return
    if keyword is None:  # a `false` schema
        yield doc.problem(parts, "this field is not allowed here", "schema/false")
        return
    yield doc.problem(parts, _readable(error), f"schema/{keyword}")


def _unknown_keys(error: ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    known = set(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    unknown = [
        k for k in error.instance if k not in known and not any(p.search(k) for p in patterns)
    ]
    if unknown:
        return unknown
    match = _UNEXPECTED.search(error.message)  # e.g. unevaluatedProperties with allOf/$ref
    return re.findall(r"'([^']*)'", match.group(1)) if match else [str(k) for k in error.instance][:1]


def _unknown_message(key: str, error: ValidationError) -> str:
    known = sorted((error.schema or {}).get("properties", {})) if isinstance(error.schema, dict) else []
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown field '{key}'{hint}"


def _readable(error: ValidationError) -> str:
    message = error.message
    if error.validator == "type":
        expected = error.validator_value
        names = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return f"{_short(error.instance)} is not of type {names}"
    if error.validator == "enum" and isinstance(error.validator_value, list):
        options = ", ".join(repr(v) for v in error.validator_value)
        return f"{_short(error.instance)} is not one of: {options}"
    if error.validator == "pattern" and isinstance(error.schema, dict) and error.schema.get("description"):
        # the schema's description says what the pattern means, better than the regex
        return f"{_short(error.instance)} is not {error.schema['description']}"
    return message


def _short(value) -> str:
    text = repr(value)  # as in jsonschema's own messages
    return text if len(text) <= 60 else text[:57] + "..."

