"""Checks of the staged Grafana output that need nothing outside the package.

(The upstream JSON Schemas of dashboards and panels live outside the project and
are checked by the tests.) Rule ids:

| rule | problem |
|---|---|
| grafana/uid | a uid longer than 40 characters, or used by two dashboards |
| grafana/panel | a panel without a unit or a description |
| grafana/promql | a panel query that does not parse |
| grafana/metric | a query reads a series the spec does not declare and no rule file records (with those labels) |
| grafana/section | a dashboard lists a section montool does not know |
| grafana/link | (warning) an alert's dashboard_url points at a dashboard that is not generated |
| grafana/configmap | a ConfigMap does not carry its dashboard's JSON unchanged |
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import promql_parser
import yaml

from ..spec import kinds as K
from ..spec.model import Model
from ..spec.problems import Problem
from .dashboards import all_dashboards
from .files import CONFIGMAP_DIR, DASHBOARDS_DIR
from .sections import sections

MAX_UID = 40
# Grafana's own variables, replaced by a duration before parsing.
GRAFANA_DURATIONS = re.compile(r"\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}")
# Series Prometheus writes itself (not declared by the spec).
BUILTIN_SERIES = frozenset({"ALERTS", "ALERTS_FOR_STATE"})


def parse_query(expr: str):
    """Parse a panel's PromQL, Grafana's interval variables replaced by `5m`."""
    return promql_parser.parse(GRAFANA_DURATIONS.sub("5m", expr))


def series(expr: str) -> list[tuple[str, dict[str, str]]]:
    """(metric name, {label: value} of its equality matchers) of every selector in `expr`."""
    found = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            found.append((node.name, {m.name: m.value for m in node.matchers.matchers
                                      if m.op == promql_parser.MatchOp.Equal}))

    promql_parser.walk(parse_query(expr), visit)
    return found


def declared_metrics(model: Model) -> set[str]:
    out = set(BUILTIN_SERIES)
    for svc in model.services:
        for key, metric in svc.metrics:
            out.add(metric.name)
            if key in K.HISTOGRAMS:
                out |= {metric.name + s for s in ("_bucket", "_sum", "_count")}
    return out


def recorded_series(root: Path) -> dict[str, list[dict[str, str]]]:
    """Record name -> the labels of each staged Prometheus recording rule of that name."""
    out: dict[str, list[dict[str, str]]] = {}
    for f in sorted((root / "prometheus" / "rules").glob("*.yml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for group in doc.get("groups") or []:
            for rule in group.get("rules") or []:
                if "record" in rule:
                    out.setdefault(rule["record"], []).append(rule.get("labels") or {})
    return out


def is_recorded(recorded: dict[str, list[dict[str, str]]], name: str, matchers: dict[str, str]) -> bool:
    """Some rule records `name` with labels that agree with the selector's matchers."""
    return any(all(matchers.get(k, v) == v for k, v in labels.items()) for labels in recorded.get(name, []))


def _panels(dashboard: dict):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # panels inside collapsed rows


def validate(root: Path, model: Model) -> list[Problem]:
    built = {b.uid: b for b in all_dashboards(model)}
    problems: list[Problem] = []
    known = sections()
    for dash in model.dashboards:
        for i, name in enumerate(dash.sections):
            if name not in known:
                problems.append(Problem.at(dash.pos, f"dashboards.{dash.id}.sections[{i}]",
                                           f"unknown dashboard section {name!r} (known: {', '.join(sorted(known))})",
                                           "grafana/section"))
    allowed = declared_metrics(model)
    recorded = recorded_series(root)
    seen: dict[str, Path] = {}
    for path in sorted((root / DASHBOARDS_DIR).rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        uid = data.get("uid", "")
        b = built.get(uid)
        pos = b.pos if b else next(iter(d.pos for d in model.dashboards), None)
        where = f"dashboard {uid}"

        def problem(message, rule):
            problems.append(Problem.at(pos, where, message, rule) if pos else
                            Problem(str(path), 1, 1, where, message, rule))

        if len(uid) > MAX_UID:
            problem(f"uid {uid!r} is longer than {MAX_UID} characters", "grafana/uid")
        if uid in seen:
            problem(f"uid {uid!r} is used by {seen[uid].name} and {path.name}", "grafana/uid")
        seen[uid] = path
        for panel in _panels(data):
            if panel.get("type") == "row":
                continue
            title = panel.get("title", "")
            if not panel.get("description") or not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
                problem(f"panel {title!r} needs a unit and a description", "grafana/panel")
            for target in panel.get("targets", []):
                expr = target.get("expr", "")
                try:
                    found = series(expr)
                except ValueError as e:
                    problem(f"panel {title!r}: query {expr!r} does not parse: {e}", "grafana/promql")
                    continue
                unknown = sorted({n for n, m in found if n not in allowed and not is_recorded(recorded, n, m)})
                if unknown:
                    problem(f"panel {title!r} reads {', '.join(unknown)}, which the spec does not declare"
                            " and no rule file records", "grafana/metric")
        cm = root / CONFIGMAP_DIR / f"{uid}.yaml"
        if not cm.is_file() or (yaml.safe_load(cm.read_text(encoding="utf-8")) or {}).get(
                "data", {}).get(f"{uid}.json") != path.read_text(encoding="utf-8"):
            problem(f"ConfigMap {cm.name} does not carry the dashboard's JSON", "grafana/configmap")
    for svc in model.services:
        uid = model.service_dashboard_uid(svc.id)
        if svc.alerts and uid not in seen:
            problems.append(Problem.at(svc.pos, f"services.{svc.id}",
                                       f"alerts link to dashboard {uid!r}, which is not generated (add the "
                                       "dashboard to the spec's dashboards)", "grafana/link", "warning"))
    return problems
