"""Validation of the staged Alertmanager output with the real amtool.

- `amtool check-config` on `alertmanager/alertmanager.yml` and on the
  kube-prometheus-stack configuration (its templateFiles written next to it).
- Every notification template string of the configuration is rendered with
  `amtool template render` on a sample alert, which proves the templates it names
  exist (check-config does not).
- `amtool config routes test --verify.receivers` for every case of
  `alertmanager/tests/routes.yml`, a few at a time; a mismatch names the case.

amtool opens neither `routing_key_file` nor `api_url_file`, so the checks need no
secret, and nothing is written into the staged tree.
"""
from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from .. import tools
from ..spec.problems import Position, Problem
from . import plan
from .config import q

WORKERS = 8
RULE_CONFIG = "alertmanager/check-config"
RULE_ROUTE = "alertmanager/route"
RULE_TEMPLATE = "alertmanager/template"
RULE_WATCHDOG = "alertmanager/deadmans-switch"


def _spec_start(model) -> Position:
    return Position(model.source, 1, 1)


def _where(model, labels: dict) -> tuple[Position, str]:
    """The spec node a routing case is about: its severity, else its service."""
    if labels.get("alertname") == plan.WATCHDOG:
        dms = plan.deadmans_switch_channels(model)
        if dms:
            return dms[0].pos, f"channels.{dms[0].id}"
    sev = model.severity(labels.get("severity", ""))
    if sev is not None:
        return sev.pos, f"severities.{sev.id}"
    svc = model.service(labels.get("service", ""))
    if svc is not None:
        return svc.pos, f"services.{svc.id}"
    return _spec_start(model), "severities"


def _output(result) -> str:
    lines = [ln for ln in (result.stdout + "\n" + result.stderr).splitlines()
             if ln.strip() and "flag overrides the --alertmanager.url" not in ln]
    return " | ".join(lines)


def validate(staged_root: Path, model) -> list[Problem]:
    from . import CONFIG, HELM_VALUES, ROUTES

    root = Path(staged_root)
    problems = []
    if not plan.deadmans_switch_channels(model):
        problems.append(Problem.at(_spec_start(model), "channels",
                                   "no webhook channel for the dead man's switch: the Watchdog alert is discarded",
                                   RULE_WATCHDOG, "warning"))
    config = root / CONFIG
    result = tools.run(["amtool", "check-config", config])
    if result.returncode != 0:
        problems.append(Problem.at(_spec_start(model), "alertmanager",
                                   f"amtool check-config rejects {CONFIG}: {_output(result)}", RULE_CONFIG))
        return problems  # route tests on a config amtool rejects only repeat the error
    problems += _check_helm(root / HELM_VALUES, model)
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    document = yaml.safe_load((root / ROUTES).read_text(encoding="utf-8"))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        renders = [pool.submit(_render, config.parent, text) for text in sorted(_template_strings(cfg))]
        routes = [pool.submit(_route_test, config, case) for case in document.get("routes") or []]
        for future in renders:
            text, result = future.result()
            if result.returncode != 0:
                problems.append(Problem.at(_spec_start(model), "alertmanager",
                                           f"template {text!r} does not render: {_output(result)}", RULE_TEMPLATE))
        for future in routes:
            case, result = future.result()
            if result.returncode != 0:
                pos, path = _where(model, case["labels"])
                got = result.stdout.strip().splitlines()[0] if result.stdout.strip() else _output(result)
                problems.append(Problem.at(
                    pos, path, f"routing case {case['name']!r}: expected receivers "
                    f"{','.join(case['receivers'])}, amtool routes it to {got}", RULE_ROUTE))
    return problems


def _route_test(config: Path, case: dict):
    args = ["amtool", "config", "routes", "test", f"--config.file={config}",
            f"--verify.receivers={','.join(case['receivers'])}"]
    args += [f"{k}={q(str(v))}" for k, v in case["labels"].items()]
    return case, tools.run(args, timeout=60)


def _check_helm(values_file: Path, model) -> list[Problem]:
    values = yaml.safe_load(values_file.read_text(encoding="utf-8"))["alertmanager"]
    with tempfile.TemporaryDirectory(prefix="montool-am-") as tmp:
        folder = Path(tmp)
        for name, text in values.get("templateFiles", {}).items():
            (folder / name).write_text(text, encoding="utf-8")
        cfg = dict(values["config"], templates=[str(folder / "*.tmpl")])
        (folder / "alertmanager.yml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
        result = tools.run(["amtool", "check-config", folder / "alertmanager.yml"])
    if result.returncode == 0:
        return []
    return [Problem.at(_spec_start(model), "alertmanager",
                       f"amtool check-config rejects the alertmanager.config of {values_file.name}: "
                       f"{_output(result)}", RULE_CONFIG)]


def _template_strings(node) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_template_strings(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_template_strings(v) for v in node)) if node else set()
    return {node} if isinstance(node, str) and "{{" in node else set()


SAMPLE_ALERT = {
    "status": "firing",
    "labels": {"alertname": "SampleAlert", "severity": "P1", "service": "sample", "team": "sre", "signal": "up"},
    "annotations": {"summary": "The sample service is down.", "description": "It has been down for 5m.",
                    "runbook_url": "https://runbooks.example/sample.html#samplealert",
                    "dashboard_url": "https://grafana.example/d/sample"},
    "startsAt": "2024-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus.example/graph", "fingerprint": "0",
}


def sample_data(alerts=(SAMPLE_ALERT,)) -> dict:
    """Notification data (Alertmanager's template.Data) for the given alerts."""
    common = {k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)}
    annotations = {k: v for k, v in alerts[0]["annotations"].items()
                   if all(a["annotations"].get(k) == v for a in alerts)}
    firing = any(a["status"] == "firing" for a in alerts)
    return {"receiver": "sample", "status": "firing" if firing else "resolved", "alerts": list(alerts),
            "groupLabels": {k: common[k] for k in ("alertname", "service") if k in common},
            "commonLabels": common, "commonAnnotations": annotations,
            "externalURL": "http://alertmanager.example"}


def render(template_dir: Path, text: str, data: dict | None = None):
    """`amtool template render` of `text` with the templates of `template_dir`."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as f:
        json.dump(data or sample_data(), f)
        f.flush()
        return tools.run(["amtool", "template", "render", f"--template.glob={template_dir / 'templates'}/*.tmpl",
                          f"--template.text={text}", f"--template.data={f.name}"], timeout=60)


def _render(config_dir: Path, text: str):
    return text, render(config_dir, text)
