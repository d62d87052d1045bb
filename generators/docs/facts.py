"""Facts about the compiled monitoring, shared by the documents, `montool explain` and `montool diff`.

Everything here is pure: it reads the model and the generated files (path -> text)
and never the clock. Alert rules are read from the Prometheus target's rule files,
routing from the Alertmanager target's configuration, so what the documents say is
exactly what was generated. When a target produced nothing (a spec without it, or a
target not written yet) the alert list falls back to the naming contract every
target follows (common alertnames and labels, see `contract_rules`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

import yaml

from ..emit import fmt_number
from ..spec.values import Duration

RULE_FILE = re.compile(r"^prometheus/rules/[^/]+\.ya?ml$")
AM_FILE = re.compile(r"^alertmanager/[^/]+\.ya?ml$")


@dataclass(frozen=True)
class Rule:
    """One Prometheus alerting rule (an alertname may have one per severity)."""

    name: str
    expr: str | None               # None only for contract fallbacks without PromQL
    for_: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...] = ()

    def label(self, key: str, default: str = "") -> str:
        return dict(self.labels).get(key, default)

    def annotation(self, key: str, default: str = "") -> str:
        return dict(self.annotations).get(key, default)

    @property
    def severity(self) -> str:
        return self.label("severity")

    @property
    def service(self) -> str:
        return self.label("service")


# --- alert rules --------------------------------------------------------------------

def generated_rules(files: dict[str, str]) -> list[Rule]:
    """The alerting rules of the Prometheus rule files in `files` (in file order)."""
    out = []
    for path in sorted(p for p in files if RULE_FILE.match(p)):
        doc = yaml.safe_load(files[path]) or {}
        for group in doc.get("groups") or []:
            for r in group.get("rules") or []:
                if "alert" not in r:
                    continue
                out.append(Rule(
                    r["alert"], str(r.get("expr", "")).strip(), str(r.get("for", "0s")),
                    tuple(sorted((str(k), str(v)) for k, v in (r.get("labels") or {}).items())),
                    tuple(sorted((str(k), str(v)) for k, v in (r.get("annotations") or {}).items()))))
    return out


def contract_rules(model) -> list[Rule]:
    """The alert rules every target agrees on, derived from the model alone."""
    org = tuple(model.organization.labels)
    out = []

    def rule(name, expr, for_, service, team, severity, signal, **extra):
        labels = dict(org, severity=severity, service=service, team=team, signal=signal, **extra)
        notes = {"runbook_url": model.runbook_url(service, name)}
        if model.service(service):
            notes["dashboard_url"] = model.dashboard_url(model.service_dashboard_uid(service))
        out.append(Rule(name, expr, str(for_), tuple(sorted(labels.items())), tuple(sorted(notes.items()))))

    for svc in model.services:
        for a in svc.alerts:
            for lv in a.levels:
                rule(a.name, a.expr(lv), a.for_, svc.id, svc.team, lv.severity, a.signal)
        for slo in svc.slos:
            if slo.type == "average":
                rule(f"{slo.name}ObjectiveBreached", None, "5m", svc.id, svc.team, slo.tiers[0].severity
                     if slo.tiers else "P1", "slo_average", slo=slo.id)
            for burn in ("page", "ticket"):
                tiers = [t for t in slo.tiers if t.alert == burn]
                if tiers:
                    rule(f"{slo.name}ErrorBudgetBurn", None, "2m", svc.id, svc.team, tiers[0].severity,
                         "error_budget_burn", slo=slo.id, burn=burn)
        rule(f"{svc.camel}MetricsAbsent", None, "10m", svc.id, svc.team, "P1", "absent")
    rule("Watchdog", "vector(1)", "0s", "prometheus", model.organization.team, model.severities[-1].id
         if model.severities else "none", "watchdog")
    return out


def alert_rules(model, files: dict[str, str]) -> tuple[list[Rule], bool]:
    """(rules, generated): the generated rules, or the contract's when none were generated."""
    rules = generated_rules(files)
    return (rules, True) if rules else (contract_rules(model), False)


@dataclass
class AlertDoc:
    """Everything known about one alertname: its rules (one per severity) and where it comes from."""

    name: str
    service: str
    kind: str                      # threshold | burn | average | absent | watchdog | other
    rules: list[Rule]
    alert: object = None           # model Alert
    slo: object = None             # model SLO
    runbook: object = None         # model Runbook
    pos: object = None             # spec Position

    @property
    def severities(self) -> list[str]:
        return [r.severity for r in self.rules]

    @property
    def runbook_url(self) -> str:
        return self.rules[0].annotation("runbook_url")


def alert_docs(model, rules: list[Rule]) -> list[AlertDoc]:
    """Rules grouped by alertname, linked to the model, most severe rule first, in spec order."""
    rank = {s.id: s.rank for s in model.severities}
    by_name: dict[tuple[str, str], AlertDoc] = {}
    for r in rules:
        key = (r.service, r.name)
        if key not in by_name:
            by_name[key] = _link(model, AlertDoc(r.name, r.service, "other", []), r)
        by_name[key].rules.append(r)
    order = {s.id: i for i, s in enumerate(model.services)}
    docs = list(by_name.values())
    for d in docs:
        d.rules.sort(key=lambda r: (rank.get(r.severity, 99), r.label("burn")))
    kind_order = ("threshold", "burn", "average", "absent", "other", "watchdog")
    return sorted(docs, key=lambda d: (order.get(d.service, len(order)), kind_order.index(d.kind),
                                       _spec_index(model, d), d.name))


def _spec_index(model, d: AlertDoc) -> int:
    svc = model.service(d.service)
    items = list(svc.alerts) + list(svc.slos) if svc else []
    target = d.alert or d.slo
    return items.index(target) if target in items else 0


def _link(model, d: AlertDoc, r: Rule) -> AlertDoc:
    svc = model.service(d.service)
    signal = r.label("signal")
    if signal == "watchdog" or d.name == "Watchdog":
        d.kind = "watchdog"
        return d
    if svc is None:
        return d
    if signal in ("error_budget_burn", "slo_average") or r.label("slo"):
        d.slo = next((o for o in svc.slos if o.id == r.label("slo") or d.name.startswith(o.name)), None)
        d.kind = "average" if signal == "slo_average" else "burn"
        d.pos = d.slo.pos if d.slo else svc.pos
    elif signal == "absent":
        d.kind, d.pos = "absent", svc.pos
    else:
        d.alert = next((a for a in svc.alerts if a.name == d.name), None)
        if d.alert is not None:
            d.kind, d.pos = "threshold", d.alert.pos
            d.runbook = next((rb for rb in svc.runbooks if rb.id == d.alert.runbook), None)
    return d


# --- SLO arithmetic (SRE workbook, chapter 5) -------------------------------------------

@dataclass(frozen=True)
class BurnFact:
    name: str
    alert: str
    severity: str
    long: Duration
    short: Duration
    factor: Decimal
    error_ratio: Decimal           # the error ratio both windows must exceed
    budget_consumed: Decimal       # share of the period's budget spent at `factor` over `long`
    detection: Duration            # time from the start of a total outage to both windows firing


def burn_facts(slo) -> list[BurnFact]:
    """Per burn tier: its threshold, the budget it lets burn, and how fast a total outage trips it.

    A total outage has an error ratio of 1, so a window of length W averages t/W after t;
    it crosses factor x budget after factor x budget x W (at most W). The long window is
    the slower of the two. Budget consumed = factor x long / period.
    """
    budget = slo.error_budget
    out = []
    for t in slo.tiers:
        ratio = min(t.factor * budget, Decimal(1))
        detection = Duration(int(min(Decimal(t.long.ms) * ratio, Decimal(t.long.ms))))
        consumed = t.factor * Decimal(t.long.ms) / Decimal(slo.window.ms)
        out.append(BurnFact(t.name, t.alert, t.severity, t.long, t.short, t.factor, ratio, consumed, detection))
    return out


def human(d: Duration) -> str:
    """A duration rounded to whole seconds for readers: 51.84s -> 52s, 3600s -> 1h."""
    return str(Duration(round(d.ms / 1000) * 1000)) if d.ms >= 1000 else str(d)


def pct(x: Decimal, digits: int = 4) -> str:
    """0.02 -> "2%", 0.0144 -> "1.44%"."""
    return fmt_number(round(Decimal(x) * 100, digits)) + "%"


# --- escalation ----------------------------------------------------------------------

@dataclass(frozen=True)
class EscalationStep:
    number: int
    name: str
    target: str                    # readable: "AITBC On-Call (primary)" or a person's name
    after: Duration                # since the incident was triggered (first loop)


def escalation_path(model, severity: str) -> tuple[object, list[EscalationStep]]:
    """(policy, steps) of a paging severity; (None, []) when it does not page."""
    policy = model.policy(severity)
    if policy is None:
        return None, []
    steps = []
    for i, lv in enumerate(policy.levels):
        steps.append(EscalationStep(i + 1, lv.name, target_name(model, lv.target), policy.delay * i))
    return policy, steps


def target_name(model, target) -> str:
    if target.kind == "rotation":
        rot = model.rotation(target.id)
        name = rot.name if rot else target.id
        return f"{name} ({target.tier})" if target.tier else name
    person = model.person(target.id)
    return person.name if person else target.id


# --- Alertmanager routing -----------------------------------------------------------

_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$')


def am_config(files: dict[str, str]) -> dict | None:
    """The Alertmanager configuration among the generated files (the one with a route)."""
    for path in sorted(p for p in files if AM_FILE.match(p)):
        doc = yaml.safe_load(files[path])
        if isinstance(doc, dict) and "route" in doc and "receivers" in doc:
            return doc
    return None


def _matchers(route: dict) -> list[tuple[str, str, str]]:
    out = []
    for text in route.get("matchers") or []:
        m = _MATCHER.match(str(text))
        if not m:
            continue
        value = m.group(3)
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].encode().decode("unicode_escape")
        out.append((m.group(1), m.group(2), value))
    out += [(k, "=", str(v)) for k, v in (route.get("match") or {}).items()]
    out += [(k, "=~", str(v)) for k, v in (route.get("match_re") or {}).items()]
    return out


def matches(route: dict, labels: dict[str, str]) -> bool:
    for name, op, value in _matchers(route):
        have = labels.get(name, "")
        ok = {"=": have == value, "!=": have != value,
              "=~": re.fullmatch(value, have) is not None, "!~": re.fullmatch(value, have) is None}[op]
        if not ok:
            return False
    return True


@dataclass(frozen=True)
class RouteMatch:
    receiver: str
    matchers: tuple[str, ...]      # of every route on the way down, root excluded
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    group_by: tuple[str, ...] = field(default=())


def route(config: dict, labels: dict[str, str]) -> list[RouteMatch]:
    """The routes an alert with `labels` ends on, as Alertmanager walks the tree."""
    root = config["route"]
    return _walk(root, labels, root.get("receiver", ""), (), tuple(root.get("group_by") or ()))


def _walk(node, labels, receiver, path, group_by) -> list[RouteMatch]:
    found = []
    for child in node.get("routes") or []:
        if not matches(child, labels):
            continue
        rcv = child.get("receiver", receiver)
        gb = tuple(child.get("group_by") or group_by)
        here = path + tuple(child.get("matchers") or ()) + tuple(f"{k}={v}" for k, v in (child.get("match") or {}).items())
        below = _walk(child, labels, rcv, here, gb)
        found += below or [RouteMatch(rcv, here, tuple(child.get("mute_time_intervals") or ()),
                                      tuple(child.get("active_time_intervals") or ()), gb)]
        if not child.get("continue", False):
            break
    return found


def describe_receiver(config: dict | None, name: str) -> str:
    """`pagerduty-coordinator-api-p0` -> "pagerduty-coordinator-api-p0 (PagerDuty)"."""
    rcv = next((r for r in (config or {}).get("receivers") or [] if r.get("name") == name), None)
    if rcv is None:
        return name
    kinds = []
    for key, label in (("pagerduty_configs", "PagerDuty"), ("slack_configs", "Slack"), ("email_configs", "email"),
                       ("webhook_configs", "webhook"), ("opsgenie_configs", "Opsgenie")):
        for c in rcv.get(key) or []:
            where = c.get("channel") or c.get("to") or c.get("url") or ""
            kinds.append(f"{label} {where}".strip())
    return f"{name} ({', '.join(kinds)})" if kinds else f"{name} (no notifications)"
