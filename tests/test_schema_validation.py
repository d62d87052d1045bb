"""Schema validation: every violation, each at its node, with a readable message."""

from __future__ import annotations

import json

import pytest
from conftest import TEST_SCHEMA

from generators.spec import schema
from generators.spec.load import load


def check(write, text: str) -> list[str]:
    doc = load(write("spec/a.yaml", text))
    return [p.format() for p in schema.validate(doc, TEST_SCHEMA)]


def test_valid_spec_has_no_problems(write):
    assert check(write, "services:\n  api:\n    team: core\n    objective: 99.9\n") == []


def test_maximum_is_reported_at_the_value(write):
    assert check(write, "services:\n  coordinator-api:\n    team: core\n    objective: 100.5\n") == [
        "spec/a.yaml:4:5: error: services.coordinator-api.objective: 100.5 is greater than the maximum of 100 "
        "(schema/maximum)"
    ]


def test_all_errors_are_reported_sorted(write):
    text = (
        "version: 2\n"
        "services:\n"
        "  web:\n"
        "    objective: -1\n"
        "    colour: red\n"
        "  api:\n"
        "    team: Core\n"
        "    tem: x\n"
    )
    assert check(write, text) == [
        "spec/a.yaml:1:1: error: version: 1 was expected (schema/const)",
        "spec/a.yaml:3:3: error: services.web: missing required field 'team' (schema/required)",
        "spec/a.yaml:4:5: error: services.web.objective: -1 is less than the minimum of 0 (schema/minimum)",
        "spec/a.yaml:5:5: error: services.web.colour: unknown field 'colour' (schema/additionalProperties)",
        "spec/a.yaml:7:5: error: services.api.team: 'Core' does not match '^[a-z][a-z0-9-]*$' (schema/pattern)",
        "spec/a.yaml:8:5: error: services.api.tem: unknown field 'tem' (did you mean 'team'?) "
        "(schema/additionalProperties)",
    ]


def test_missing_required_top_level_field_is_at_the_start(write):
    assert check(write, "version: 1\n") == [
        "spec/a.yaml:1:1: error: missing required field 'services' (schema/required)"
    ]


API = "services:\n  api:\n    team: core\n"


@pytest.mark.parametrize(
    "extra, expected",
    [
        pytest.param(  # one mistake inside a oneOf gives one line, from the closest alternative
            "    threshold:\n      warning: high\n",
            "spec/a.yaml:5:7: error: services.api.threshold.warning: 'high' is not of type number (schema/type)",
            id="oneOf-closest",
        ),
        pytest.param(  # no alternative of the right type: name them all
            "    threshold: high\n",
            "spec/a.yaml:4:5: error: services.api.threshold: 'high' is not of type number or object (schema/type)",
            id="oneOf-types",
        ),
        pytest.param(
            "  Bad_Name:\n    team: core\n",
            "spec/a.yaml:4:3: error: services.Bad_Name: key 'Bad_Name' does not match '^[a-z][a-z0-9-]*$' "
            "(schema/pattern)",
            id="propertyNames",
        ),
        pytest.param(
            "    owner: not-an-email\n",
            "spec/a.yaml:4:5: error: services.api.owner: 'not-an-email' is not a 'email' (schema/format)",
            id="format",
        ),
    ],
)
def test_one_line_per_mistake(write, extra, expected):
    assert check(write, API + extra) == [expected]


def test_type_errors_in_json_files_are_positioned(write):
    doc = load(write("spec/b.json", '{\n  "services": {\n    "api": {"team": 7}\n  }\n}\n'))
    assert [p.format() for p in schema.validate(doc, TEST_SCHEMA)] == [
        "spec/b.json:3:13: error: services.api.team: 7 is not of type string (schema/type)"
    ]


def test_an_invalid_schema_is_refused():
    with pytest.raises(Exception, match="is not valid under any of the given schemas|is not of type"):
        schema.validate(load_dummy(), {"type": 12})


def load_dummy():
    from generators.spec.load import Document

    return Document(data={}, files=["x.yaml"], root=None)


def test_the_packaged_schema_is_valid_draft_2020_12():
    from jsonschema import Draft202012Validator

    loaded = schema.load_schema()
    Draft202012Validator.check_schema(loaded)
    assert loaded == json.loads(schema.SCHEMA_PATH.read_text())
