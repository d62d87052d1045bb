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
| grafana/configmap-size | a ConfigMap file is larger than Kubernetes' 1 MiB ConfigMap limit |
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
from .dashboards import Built, sources
from .files import CONFIGMAP_DIR, DASHBOARDS_DIR, configmap
from .sections import sections

MAX_UID = 40
# Grafana's own variables, replaced by a duration before parsing.
GRAFANA_DURATIONS = re.compile(r"\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}")
# Series Prometheus writes itself (not declared by the spec).
BUILTIN_SERIES = frozenset({"ALERTS", "ALERTS_FOR_STATE"})
# Kubernetes refuses a ConfigMap whose data exceeds 1 MiB; the file (data plus a small
# header) is checked, which is stricter. (`kubectl apply` without --server-side also
# copies the object into a 256 KiB annotation: apply the dashboards server-side.)
MAX_CONFIGMAP_BYTES = 1 << 20
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: same documents


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
        doc = yaml.load(f.read_text(encoding="utf-8"), Loader=_Loader) or {}
        for group in doc.get("groups") or []:
            for rule in group.get("rules") or []:
                if "record" in rule:
                    out.setdefault(rule["record"], []).append(rule.get("labels") or {})
    return out


class RecordedIndex:
    """is_recorded without a scan of every rule of that name per query (a thousand SLOs
    record `slo:sli_error:ratio_rate30d` a thousand times): the candidates are the rules
    whose value of one of the selector's labels is the selector's, or that lack it."""

    def __init__(self, recorded: dict[str, list[dict[str, str]]]):
        self.recorded = recorded
        self.by_value: dict[tuple[str, str], dict[str, list[dict]]] = {}
        self.without: dict[tuple[str, str], list[dict]] = {}
        for name, rules in recorded.items():
            keys = {k for labels in rules for k in labels}
            for k in keys:
                for labels in rules:
                    if k in labels:
                        self.by_value.setdefault((name, k), {}).setdefault(labels[k], []).append(labels)
                    else:
                        self.without.setdefault((name, k), []).append(labels)

    def __call__(self, name: str, matchers: dict[str, str]) -> bool:
        """Some rule records `name` with labels that agree with the selector's matchers."""
        rules = self.recorded.get(name, [])
        for k, v in matchers.items():
            if (name, k) in self.by_value:
                rules = self.by_value[(name, k)].get(v, []) + self.without.get((name, k), [])
                break
        return any(all(matchers.get(k, v) == v for k, v in labels.items()) for labels in rules)


def _panels(dashboard: dict):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # panels inside collapsed rows


def _carries(model: Model, cm: Path, uid: str, path: Path) -> bool:
    """The ConfigMap's data holds the dashboard's JSON text unchanged: as generate writes it
    for that JSON (a byte comparison), or else as a YAML parser reads it (slow, and rare)."""
    text, found = path.read_text(encoding="utf-8"), cm.read_text(encoding="utf-8")
    if found == configmap(model, Built(uid, "", path.parent.name, None, text), text).content:
        return True
    return (yaml.load(found, Loader=_Loader) or {}).get("data", {}).get(f"{uid}.json") == text


def validate(root: Path, model: Model) -> list[Problem]:
    built = sources(model)
    problems: list[Problem] = []
    known = sections()
    for dash in model.dashboards:
        for i, name in enumerate(dash.sections):
            if name not in known:
                problems.append(Problem.at(dash.pos, f"dashboards.{dash.id}.sections[{i}]",
                                           f"unknown dashboard section {name!r} (known: {', '.join(sorted(known))})",
                                           "grafana/section"))
    allowed = declared_metrics(model)
    recorded = RecordedIndex(recorded_series(root))
    parsed: dict[str, list | ValueError] = {}  # expr -> its series, or why it does not parse
    seen: dict[str, Path] = {}
    for path in sorted((root / DASHBOARDS_DIR).rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        uid = data.get("uid", "")
        pos = built.get(uid) or next(iter(d.pos for d in model.dashboards), None)
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
                if expr not in parsed:
                    try:
                        parsed[expr] = series(expr)
                    except ValueError as e:
                        parsed[expr] = e
                found = parsed[expr]
                if isinstance(found, ValueError):
                    problem(f"panel {title!r}: query {expr!r} does not parse: {found}", "grafana/promql")
                    continue
                unknown = sorted({n for n, m in found if n not in allowed and not recorded(n, m)})
                if unknown:
                    problem(f"panel {title!r} reads {', '.join(unknown)}, which the spec does not declare"
                            " and no rule file records", "grafana/metric")
        cm = root / CONFIGMAP_DIR / f"{uid}.yaml"
        if not cm.is_file() or not _carries(model, cm, uid, path):
            problem(f"ConfigMap {cm.name} does not carry the dashboard's JSON", "grafana/configmap")
        elif (size := cm.stat().st_size) > MAX_CONFIGMAP_BYTES:
            problem(f"ConfigMap {cm.name} is {size} bytes, more than Kubernetes' limit of {MAX_CONFIGMAP_BYTES}"
                    " (1 MiB): the dashboard sidecar cannot load it", "grafana/configmap-size")
    for svc in model.services:
        uid = model.service_dashboard_uid(svc.id)
        if svc.alerts and uid not in seen:
            problems.append(Problem.at(svc.pos, f"services.{svc.id}",
                                       f"alerts link to dashboard {uid!r}, which is not generated (add the "
                                       "dashboard to the spec's dashboards)", "grafana/link", "warning"))
    return problems
