"""Validation of the staged Alertmanager output with the real amtool.

- `amtool check-config` on `alertmanager/alertmanager.yml` and on the
  kube-prometheus-stack configuration (its templateFiles written next to it).
- Every notification template string of the configuration is rendered with
  `amtool template render` on a sample alert, which proves the templates it names
  exist (check-config does not).
- Large files are read a block at a time (`blocks.py`): only the parts checked.
- Every case of `alertmanager/tests/routes.yml` through the real Alertmanager
  routing tree: one `alertmanager` server for all cases (`server.py`), or, when
  only amtool is installed, `amtool config routes test --verify.receivers` per
  case; either runs Alertmanager's own route matching, and a mismatch names the case.

amtool opens neither `routing_key_file` nor `api_url_file`, so the checks need no
secret, and nothing is written into the staged tree.
"""
from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import tools
from ..spec.problems import Position, Problem
from . import blocks, plan
from . import server as server_mod
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
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        check = pool.submit(tools.run, ["amtool", "check-config", config])
        routing = blocks.load_keys(config.read_text(encoding="utf-8"), server_mod.ROUTING_KEYS)  # meanwhile
        result = check.result()
        if result.returncode != 0:
            problems.append(Problem.at(_spec_start(model), "alertmanager",
                                       f"amtool check-config rejects {CONFIG}: {_output(result)}", RULE_CONFIG))
            return problems  # route tests on a config amtool rejects only repeat the error
        server = _start_server(routing)
        try:
            helm = pool.submit(_check_helm, root / HELM_VALUES, model)
            renders = [pool.submit(_render, config.parent, text) for text in template_strings(model)]
            cases = blocks.load_section((root / ROUTES).read_text(encoding="utf-8"), "routes") or []
            if server is not None:
                problems += _route_cases(server, cases, model)
            else:
                problems += _route_cases_amtool(pool, config, cases, model)
        finally:
            if server is not None:
                server.stop()
        problems += helm.result()
        for future in renders:
            text, result = future.result()
            if result.returncode != 0:
                problems.append(Problem.at(_spec_start(model), "alertmanager",
                                           f"template {text!r} does not render: {_output(result)}", RULE_TEMPLATE))
    return problems


def _start_server(cfg: dict):
    """The routing server, or None when no alertmanager binary is installed (amtool then
    tests each case: the same proof, one process per case)."""
    try:
        return server_mod.Alertmanager(cfg)
    except tools.ToolMissing:
        return None


def _labels(case: dict) -> dict:
    return {str(k): str(v) for k, v in (case.get("labels") or {}).items()}


def _mismatch(model, case: dict, got: str) -> Problem:
    pos, path = _where(model, case["labels"])
    return Problem.at(pos, path, f"routing case {case['name']!r}: expected receivers "
                      f"{','.join(case['receivers'])}, Alertmanager routes it to {got}", RULE_ROUTE)


def _route_cases(server, cases: list[dict], model) -> list[Problem]:
    """Every case through the running Alertmanager: its receivers, in order, as expected."""
    try:
        got = server.receivers([_labels(c) for c in cases])
    except server_mod.ServerError as exc:
        return [Problem.at(_spec_start(model), "alertmanager", f"routing cases not tested: {exc}", RULE_ROUTE)]
    problems = []
    for case, receivers in zip(cases, got):
        if receivers is None:
            problems.append(_mismatch(model, case, "nothing (the alert was not accepted)"))
        elif receivers != [str(r) for r in case.get("receivers") or []]:
            problems.append(_mismatch(model, case, ",".join(receivers)))
    return problems


def _route_cases_amtool(pool, config: Path, cases: list[dict], model) -> list[Problem]:
    problems = []
    for case, result in pool.map(lambda c: _route_test(config, c), cases):
        if result.returncode != 0:
            got = result.stdout.strip().splitlines()[0] if result.stdout.strip() else _output(result)
            problems.append(_mismatch(model, case, got))
    return problems


def _route_test(config: Path, case: dict):
    args = ["amtool", "config", "routes", "test", f"--config.file={config}",
            f"--verify.receivers={','.join(case['receivers'])}"]
    args += [f"{k}={q(v)}" for k, v in _labels(case).items()]
    return case, tools.run(args, timeout=60)


def _check_helm(values_file: Path, model) -> list[Problem]:
    """check-config on `alertmanager.config` of the values, its templates pointing at the
    `templateFiles` written to a temporary folder. Only those two blocks are parsed."""
    text = values_file.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="montool-am-") as tmp:
        folder = Path(tmp)
        glob = [str(folder / "*.tmpl")]
        cfg_text = blocks.section(text, "alertmanager", "config")
        cfg_text = cfg_text and blocks.replace(cfg_text, "templates", glob)
        templates = blocks.load_section(text, "alertmanager", "templateFiles") if cfg_text else None
        if cfg_text is None or templates is None:
            values = blocks.load(text)["alertmanager"]
            cfg_text, templates = json.dumps(dict(values["config"], templates=glob)), values.get("templateFiles")
        for name, body in (templates or {}).items():
            (folder / name).write_text(body, encoding="utf-8")
        (folder / "alertmanager.yml").write_text(cfg_text, encoding="utf-8")
        result = tools.run(["amtool", "check-config", folder / "alertmanager.yml"])
    if result.returncode == 0:
        return []
    return [Problem.at(_spec_start(model), "alertmanager",
                       f"amtool check-config rejects the alertmanager.config of {values_file.name}: "
                       f"{_output(result)}", RULE_CONFIG)]


def template_strings(model) -> list[str]:
    """The template strings of the configuration `generate` writes for `model` (they are
    constants of config.py; taking them from the model spares parsing megabytes of
    receivers, while check-config has read the staged file)."""
    from .config import config as build_config
    return sorted(_template_strings(build_config(model, [])))


def _template_strings(node) -> set[str]:
    found, todo = set(), [node]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, str) and "{{" in node:
            found.add(node)
    return found


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
