"""How validation proves the routing cases: one real Alertmanager server for all of
them (amtool per case when the binary is missing), and the partial YAML reader that
spares parsing megabytes at a thousand services.

The server's answers are compared with amtool's own `config routes test` output,
case by case, and the partial reads with a full PyYAML parse of the same files.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT
from generators import alertmanager, tools
from generators.alertmanager import blocks, server
from generators.oncall import load_model

SPEC = REPO_ROOT / "spec" / "aitbc.yaml"


@pytest.fixture(scope="module")
def model():
    return load_model(SPEC)


@pytest.fixture(scope="module")
def staged(model, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("am-routing")
    for f in alertmanager.generate(model):
        (root / f.path).parent.mkdir(parents=True, exist_ok=True)
        (root / f.path).write_text(f.content, encoding="utf-8")
    return root


def read(staged: Path, path: str):
    return yaml.safe_load((staged / path).read_text(encoding="utf-8"))


def amtool_routes(config: Path, labels: dict) -> str:
    args = ["amtool", "config", "routes", "test", f"--config.file={config}"]
    result = tools.run(args + [f'{k}="{v}"' for k, v in labels.items()])
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_server_routes_every_case_as_amtool_does(staged):
    config = staged / alertmanager.CONFIG
    cases = read(staged, alertmanager.ROUTES)["routes"]
    with server.Alertmanager(yaml.safe_load(config.read_text(encoding="utf-8"))) as am:
        got = am.receivers([{k: str(v) for k, v in c["labels"].items()} for c in cases])
    assert len(got) == len(cases) > 30
    for case, receivers in zip(cases, got):
        assert ",".join(receivers) == amtool_routes(config, case["labels"]), case["name"]


def test_the_server_config_keeps_the_routing_and_can_send_nothing(staged):
    cfg = read(staged, alertmanager.CONFIG)
    run = server.routing_config(cfg)
    assert run["route"] == cfg["route"] and run["time_intervals"] == cfg["time_intervals"]
    assert set(run) == {"route", "time_intervals", "receivers"}       # no inhibition, no global, no templates
    assert all(r == {"name": r["name"]} for r in run["receivers"])    # no integration at all
    used = set()
    todo = [cfg["route"]]
    while todo:
        node = todo.pop()
        used.add(node["receiver"])
        todo += node.get("routes", [])
    assert {r["name"] for r in run["receivers"]} == used


def test_without_the_alertmanager_binary_amtool_proves_each_case(staged, model, tmp_path, monkeypatch):
    monkeypatch.setenv(tools.env_var("alertmanager"), str(tmp_path / "no-such-alertmanager"))
    with pytest.raises(tools.ToolMissing):
        tools.tool_path("alertmanager")
    assert alertmanager.validate(staged, model) == []
    broken = tmp_path / "stage"
    shutil.copytree(staged, broken)
    doc = read(broken, alertmanager.ROUTES)
    case = next(c for c in doc["routes"] if c["name"] == "P1 coordinator-api")
    case["receivers"] = ["email"]
    (broken / alertmanager.ROUTES).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    problems = alertmanager.validate(broken, model)
    assert [(p.rule, p.path) for p in problems] == [("alertmanager/route", "severities.P1")]
    assert "'P1 coordinator-api'" in problems[0].message and "pagerduty-coordinator-api-p1" in problems[0].message


def test_a_label_set_the_tree_sends_elsewhere_fails_with_the_server(staged, model, tmp_path):
    broken = tmp_path / "stage"
    shutil.copytree(staged, broken)
    doc = read(broken, alertmanager.ROUTES)
    watchdog = next(c for c in doc["routes"] if c["name"] == "Watchdog")
    watchdog["labels"]["alertname"] = "NotTheWatchdog"   # now routed by its severity, not to the switch
    (broken / alertmanager.ROUTES).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    problems = alertmanager.validate(broken, model)
    assert [p.rule for p in problems] == ["alertmanager/route"]
    assert "'Watchdog'" in problems[0].message and "deadmans-switch" in problems[0].message


@pytest.mark.parametrize("path", ["alertmanager/alertmanager.yml", "alertmanager/tests/routes.yml",
                                  "helm/alertmanager-values.yaml"])
def test_each_block_read_alone_equals_the_full_parse(staged, path):
    text = (staged / path).read_text(encoding="utf-8")
    whole = yaml.safe_load(text)
    assert blocks.keys(text) == set(whole)
    for key, value in whole.items():
        if isinstance(value, (dict, list)):
            assert yaml.safe_load(blocks.section(text, key)) == value, key
            if isinstance(value, dict):
                for sub, inner in value.items():
                    if isinstance(inner, (dict, list)):
                        assert yaml.safe_load(blocks.section(text, key, sub)) == inner, (key, sub)
    assert blocks.load_keys(text, list(whole)) == whole


@pytest.mark.parametrize("text", [
    "a: 1\nb: {x: [1, 2]}\n",                 # flow style where a block is expected
    "{a: 1, b: {x: [1, 2]}}\n",               # a flow mapping at the top
    "a: 1\n---\nb:\n  x: [1, 2]\n",           # two documents
    "a: 1\nb:\n  x: [1, 2]\n y: 3\n",         # a line less indented than its block
])
def test_text_that_is_not_plain_block_style_is_parsed_whole(text):
    assert blocks.section(text, "b") is None
    try:
        whole = yaml.safe_load(text)
    except yaml.YAMLError:
        with pytest.raises(yaml.YAMLError):
            blocks.load_keys(text, ["b"])
        return
    assert blocks.load_keys(text, ["b"]) == {"b": whole["b"]}


def test_replace_swaps_one_top_level_block():
    text = "a: 1\ntemplates:\n  - /etc/x/*.tmpl\nroute:\n  receiver: r\n"
    out = blocks.replace(text, "templates", ["/tmp/y/*.tmpl"])
    assert yaml.safe_load(out) == {"a": 1, "templates": ["/tmp/y/*.tmpl"], "route": {"receiver": "r"}}
