"""Test files of one shape (renamings of one another) are proven by one promtool run.

The synthetic benchmark spec has many services of one kind with the same numbers;
their files must fall into one shape, and any real difference (a threshold, a
regex on a name) must keep a file apart so that promtool runs on it.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from generators.compiler import compile_spec
from generators.output import stage
from generators.prometheus import validate
from generators.prometheus.shapes import by_shape, canonical, service_names, shape_key

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from synth import kinds_for, write_spec  # noqa: E402


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    spec = write_spec(20, tmp_path_factory.mktemp("synth"), REPO / "spec" / "aitbc.yaml")
    return compile_spec(spec)


@pytest.fixture(scope="module")
def tree(compiled, tmp_path_factory):
    return stage(compiled.files, parent=tmp_path_factory.mktemp("tree"))


def _shapes(tree: Path, model) -> dict[Path, list[Path]]:
    services = {s.id: s for s in model.services}
    tests = sorted((tree / "prometheus/tests").glob("*.test.yml"))
    return by_shape(tests,
                    lambda f: service_names(services[f.name.split(".")[0]]) if f.name.split(".")[0] in services else {})


def test_services_of_one_kind_share_a_shape(tree, compiled):
    shapes = _shapes(tree, compiled.model)
    teams = {s.id: s.team for s in compiled.model.services}
    # http-api services; teams differ (i % 3) and are renamed, except "platform", which is
    # also the name of an organisation label: its files cannot be renamings of the others'
    http = [f"svc-{i:04d}" for i, k in enumerate(kinds_for(20)) if k == "http-api"]
    others = [s for s in http if teams[s] != "platform"]
    assert len(others) >= 2 and {teams[s] for s in others} == {"blockchain", "infrastructure"}
    members = next(m for m in shapes.values() if m[0].name == f"{others[0]}.test.yml")
    assert {f"{s}.test.yml" for s in others} <= {m.name for m in members}
    # web-ui and key-management-daemon services have the same two alerts (bench/synth.py)
    kinds = {f"svc-{i:04d}": k for i, k in enumerate(kinds_for(20))}
    assert {kinds[m.name.split(".")[0]] for m in members} <= {"http-api", "web-ui", "key-management-daemon"}
    latency = next(m for m in shapes.values() if m[0].name == f"{others[0]}.slo-latency.test.yml")
    assert {f"{s}.slo-latency.test.yml" for s in others} <= {m.name for m in latency}
    # and every file is in exactly one shape
    files = [f for m in shapes.values() for f in m]
    assert sorted(files) == sorted((tree / "prometheus/tests").glob("*.test.yml"))
    assert len(shapes) < len(files)


def test_canonical_renames_every_form_of_the_names():
    names = {"svc-0001": "id", "Svc0001": "camel", "svc0001": "camel-lower", "team-a": "team"}
    text = ('alert: Svc0001ErrorRate\nservice: svc-0001\nteam: team-a\n'
            'runbook_url: https://r/svc-0001.html#svc0001errorrate\nxsvc-0001: kept')
    out = canonical(text, names)
    assert "0001" not in out.replace("xsvc-0001", "")
    assert "xsvc-0001" in out  # a name only counts where no letter, digit or _ precedes it
    other = canonical(text.replace("0001", "0002"), {k.replace("0001", "0002"): v for k, v in names.items()})
    assert out.replace("xsvc-0001", "") == other.replace("xsvc-0002", "")


def test_a_regex_on_a_name_keeps_a_file_apart():
    names = {"svc-0001": "id"}
    rules = 'expr: up{job="svc-0001",code=~"5.."} > 0'
    tests = 'input_series:\n  - series: up{code="500",job="svc-0001"}\n'
    assert shape_key(rules, tests, names) is not None
    # the pattern mentions a name
    assert shape_key('expr: up{job=~"svc-0001|other"} > 0', tests, names) is None
    # a pattern that reads a label carrying a name (svc-0001 matches, svc-0002 would not)
    assert shape_key('expr: up{job=~"svc-000[01]"} > 0', tests, names) is None


def test_a_broken_rule_of_a_non_representative_is_caught(tree, compiled, tmp_path):
    shapes = _shapes(tree, compiled.model)
    members = next(m for m in shapes.values() if len(m) >= 3 and ".slo-" not in m[0].name)
    victim = members[-1].name.removesuffix(".test.yml")
    root = tmp_path / "tree"
    shutil.copytree(tree / "prometheus", root / "prometheus")
    rules = root / "prometheus/rules" / f"{victim}.rules.yml"
    text = rules.read_text()
    assert text.count("> 0.05\n") >= 1
    rules.write_text(text.replace("> 0.05\n", "> 0.5\n"))
    problems = validate(root, compiled.model)
    assert problems, "the changed file was not tested"
    assert {p.rule for p in problems} == {"promtool/test-rules"}
    # reported at the changed service's alert, and only there
    camel = next(s.camel for s in compiled.model.services if s.id == victim)
    assert {p.path for p in problems} == {f"{camel}ErrorRate"}
