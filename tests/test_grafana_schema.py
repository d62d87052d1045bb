"""Generated dashboards against Grafana's own JSON Schemas (grafana-foundation-sdk's
jsonschema/ files, draft-07, read from the shared reference folder, never copied)."""
from __future__ import annotations

import copy
import importlib.util
import json
import tempfile
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from conftest import REFERENCE, REPO_ROOT
from generators import grafana
from generators.oncall import load_model

GRAFANA = REFERENCE / "grafana"
SPEC = REPO_ROOT / "spec" / "aitbc.yaml"


@cache
def schema(name: str) -> dict:
    return json.loads((GRAFANA / f"{name}.jsonschema.json").read_text(encoding="utf-8"))


@cache
def validator(name: str, definition: str | None = None) -> Draft7Validator:
    """A validator for the file's root, or for one of its definitions."""
    doc = copy.deepcopy(schema(name))
    if definition:
        doc["$ref"] = f"#/definitions/{definition}"
    Draft7Validator.check_schema(doc)
    return Draft7Validator(doc)


def errors(v: Draft7Validator, instance) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(instance)]


@cache
def dashboards() -> dict[str, dict]:
    """AITBC's dashboards, and the overview dashboards of 100 synthetic services, whose
    sections are past the fleet threshold (one row of fleet panels per section)."""
    files = grafana.generate(load_model(SPEC))
    out = {f.path: json.loads(f.content) for f in files if f.path.endswith(".json")}
    synth = importlib.util.spec_from_file_location("synth", REPO_ROOT / "bench" / "synth.py")
    module = importlib.util.module_from_spec(synth)
    synth.loader.exec_module(module)
    with tempfile.TemporaryDirectory() as tmp:
        model = load_model(module.write_spec(100, Path(tmp), SPEC))
    for f in grafana.generate(model):
        if f.path.endswith(".json") and "svc-" not in f.path:
            out[f"synth-100/{f.path}"] = json.loads(f.content)
    return out


def panels(dashboard: dict):
    for p in dashboard.get("panels", []):
        if p["type"] != "row":
            yield p
        yield from (q for q in p.get("panels", []) if q["type"] != "row")


def test_there_are_dashboards_to_validate():
    assert len(dashboards()) >= 8
    fleet = [p for path, d in dashboards().items() if path.startswith("synth-100/") for p in d["panels"]
             if p["type"] == "table"]
    assert fleet, "the synthetic overview dashboards have no fleet table"
    assert sum(1 for d in dashboards().values() for _ in panels(d)) >= 50


@pytest.mark.parametrize("path", sorted(dashboards()))
def test_dashboard_validates_against_the_dashboard_schema(path):
    assert errors(validator("dashboard"), dashboards()[path]) == []


@pytest.mark.parametrize("path", sorted(dashboards()))
def test_panels_validate_against_their_panel_type_schema(path):
    problems = []
    for p in panels(dashboards()[path]):
        kind = p["type"]
        assert (GRAFANA / f"{kind}.jsonschema.json").is_file(), f"no upstream schema for panel type {kind}"
        defs = schema(kind)["definitions"]
        problems += [f"{p['title']}: options: {e}" for e in errors(validator(kind, "Options"), p.get("options", {}))]
        custom = p["fieldConfig"]["defaults"].get("custom")
        if "FieldConfig" in defs:
            assert custom is not None, f"{p['title']}: a {kind} panel needs fieldConfig.defaults.custom"
            problems += [f"{p['title']}: custom: {e}" for e in errors(validator(kind, "FieldConfig"), custom)]
        else:
            assert custom is None, f"{p['title']}: {kind} has no field config of its own"
    assert problems == []


@pytest.mark.parametrize("path", sorted(dashboards()))
def test_queries_validate_against_the_prometheus_query_schema(path):
    targets = [t for p in panels(dashboards()[path]) for t in p["targets"]]
    assert targets
    assert [e for t in targets for e in errors(validator("prometheus"), t)] == []


def test_every_unit_is_a_grafana_unit():
    known = {d.get("const") for d in schema("units")["definitions"].values()}
    used = {p["fieldConfig"]["defaults"]["unit"] for d in dashboards().values() for p in panels(d)}
    assert used and used <= known, used - known


def test_the_schemas_catch_a_broken_dashboard():
    """The checks above can fail: the same schemas reject small, realistic mistakes."""
    d = copy.deepcopy(next(iter(dashboards().values())))
    ts = next(p for p in panels(d) if p["type"] == "timeseries")
    ts["gridPos"]["w"] = 25
    ts["fieldConfig"]["defaults"]["custom"]["drawStyle"] = "dots"
    ts["options"]["legend"]["placement"] = "top"
    ts["targets"][0]["format"] = "graph"
    assert any("gridPos" in e for e in errors(validator("dashboard"), d))
    assert errors(validator("timeseries", "FieldConfig"), ts["fieldConfig"]["defaults"]["custom"])
    assert errors(validator("timeseries", "Options"), ts["options"])
    assert errors(validator("prometheus"), ts["targets"][0])
