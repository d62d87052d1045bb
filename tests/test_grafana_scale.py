"""The Grafana target at scale: ConfigMaps under Kubernetes' 1 MiB limit (a checked
invariant), overview sections that stay small past FLEET_QUERIES queries, templates
that write what the SDK writes."""
from __future__ import annotations

import importlib.util
import json

from conftest import REPO_ROOT
from generators import grafana, prometheus
from generators.grafana.dashboards import Built
from generators.grafana.files import configmap
from generators.grafana.panels import Query, Step, stat, timeseries
from generators.grafana.sections.fleet import FLEET_QUERIES
from generators.grafana.template import panel_text, sdk_json
from generators.oncall import load_model
from generators.output import stage

SPEC = REPO_ROOT / "spec" / "aitbc.yaml"
MIB = 1024 * 1024


def _synth(n: int, folder):
    spec = importlib.util.spec_from_file_location("synth", REPO_ROOT / "bench" / "synth.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return load_model(mod.write_spec(n, folder, SPEC))


def test_a_configmap_over_one_mib_is_a_problem(tmp_path):
    model = load_model(SPEC)
    staged = stage(grafana.generate(model) + prometheus.generate(model), parent=tmp_path)
    path = next(staged.glob("grafana/dashboards/*/aitbc-red-explorer-ui.json"))
    data = json.loads(path.read_text())
    data["description"] = "x" * MIB  # the JSON alone is past the limit
    text = json.dumps(data, indent=2) + "\n"
    path.write_text(text)
    cm = configmap(model, Built("aitbc-red-explorer-ui", "", path.parent.name, None, text), text)
    (staged / cm.path).write_text(cm.content)
    [problem] = grafana.validate(staged, model)
    assert problem.rule == "grafana/configmap-size"
    assert str(len(cm.content.encode())) in problem.message and str(MIB) in problem.message


def test_many_services_keep_every_configmap_under_one_mib(tmp_path):
    model = _synth(60, tmp_path)
    files = grafana.generate(model)
    sizes = {f.path: len(f.content.encode()) for f in files if f.path.startswith("kubernetes/")}
    assert len(sizes) > 60 and max(sizes.values()) < MIB
    overview = json.loads(next(f.content for f in files if f.path.endswith("/aitbc-system-overview.json")))
    queries = sum(len(p.get("targets", [])) for p in overview["panels"])
    # 60 services: per-service panels would hold >60 queries; six sections of fleet rows hold 2 each
    assert queries <= 6 * FLEET_QUERIES
    titles = [p["title"] for p in overview["panels"]]
    assert "Service health: alerts firing by service" in titles
    staged = stage(files + prometheus.generate(model), parent=tmp_path / "out")
    assert [p for p in grafana.validate(staged, model) if p.severity == "error"] == []


def test_a_template_writes_what_the_sdk_writes():
    """Two panels of one shape: each filled template is the SDK's own JSON for its strings."""
    for p in (stat("Up", "1 while scraped.", "none", [Query('up{job="a"}', "up")], steps=[Step(None, "red")]),
              stat("Health", "", "none", [Query('up{job="b"}', "")], steps=[Step(None, "red")]),
              timeseries("A \"quoted\" title", "Ünïcode\nline", "s", [Query("rate(x[5m])", "{{code}}")],
                         min_value=0, links=[("Docs", "/d/x")])):
        expected = sdk_json(p.make(iter(p.strings)).build())
        expected.update(id=7, gridPos={**expected["gridPos"], "x": 3, "y": 5})
        assert json.loads(panel_text(p, 7, 3, 5)) == expected
