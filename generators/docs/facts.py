"""Facts about the compiled monitoring, shared by the documents, `montool explain` and `montool diff`.

Everything here is pure: it reads the model and the other targets' pure functions,
never files or the clock. Alert rules come from the Prometheus target's
`alert_inventory(model)`, routing from the Alertmanager target's `routing_table(model)`
(the cases amtool verifies) and its receivers and configuration, so what the documents
say is exactly what was generated.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from ..emit import fmt_number
from ..spec.values import Duration


@dataclass(frozen=True)
class Rule:
    """One Prometheus alerting rule (an alertname may have one per severity)."""

    name: str
    kind: str                      # threshold | burn | average | absent | watchdog
    expr: str
    for_: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    condition: str                 # in words
    source: str                    # file:line:column of the spec node, or ""

    @cached_property
    def _labels(self) -> dict:
        return dict(self.labels)

    @cached_property
    def _annotations(self) -> dict:
        return dict(self.annotations)

    def label(self, key: str, default: str = "") -> str:
        return self._labels.get(key, default)

    def annotation(self, key: str, default: str = "") -> str:
        return self._annotations.get(key, default)

    @property
    def severity(self) -> str:
        return self.label("severity")

    @property
    def service(self) -> str:
        return self.label("service")


def alert_rules(model) -> list[Rule]:
    """Every alerting rule the Prometheus target generates, in rule file order."""
    from ..prometheus.inventory import alert_inventory

    return [Rule(i["name"], i["kind"], i["expr"], i["for"] or "0s", tuple(sorted(i["labels"].items())),
                 tuple(sorted((k, i[k]) for k in ("summary", "runbook_url", "dashboard_url") if i[k])),
                 i["condition"], i["source"])
            for i in alert_inventory(model)]


@dataclass
class AlertDoc:
    """Everything known about one alertname: its rules (one per severity) and where it comes from."""

    name: str
    service: str
    kind: str
    rules: list[Rule]
    alert: object = None           # model Alert
    slo: object = None             # model SLO
    runbook: object = None         # model Runbook
    pos: object = None             # spec Position

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
            by_name[key] = _link(model, AlertDoc(r.name, r.service, r.kind, []), r)
        by_name[key].rules.append(r)
    order = {s.id: i for i, s in enumerate(model.services)}
    docs = list(by_name.values())
    for d in docs:
        d.rules.sort(key=lambda r: (rank.get(r.severity, 99), r.label("burn")))
    kinds = ("threshold", "burn", "average", "absent", "watchdog")
    return sorted(docs, key=lambda d: (order.get(d.service, len(order)), kinds.index(d.kind) if d.kind in kinds
                                       else len(kinds), _spec_index(model, d), d.name))


def _spec_index(model, d: AlertDoc) -> int:
    svc = model.service(d.service)
    items = list(svc.alerts) + list(svc.slos) if svc else []
    target = d.alert or d.slo
    return items.index(target) if target in items else 0


def _link(model, d: AlertDoc, r: Rule) -> AlertDoc:
    svc = model.service(d.service)
    if svc is None:
        return d
    d.pos = svc.pos
    if d.kind in ("burn", "average"):
        d.slo = next((o for o in svc.slos if o.id == r.label("slo")), None)
        d.pos = d.slo.pos if d.slo else svc.pos
    elif d.kind == "threshold":
        d.alert = next((a for a in svc.alerts if a.name == d.name), None)
        if d.alert is not None:
            d.pos = d.alert.pos
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


# --- Alertmanager routing ----------------------------------------------------------

class Routing:
    """Receivers and mutes of an alert, from the Alertmanager target's routing table
    (one case per severity x service, plus the Watchdog; amtool verifies each)."""

    def __init__(self, model):
        from ..alertmanager import config, plan, routing_table

        self.model, self.plan = model, plan
        self.table = {(labels.get("severity"), labels.get("service")): receivers
                      for labels, receivers in routing_table(model)}
        self.receivers = {r["name"]: r for r in config.receivers(model)}

    def receivers_for(self, rule: Rule) -> list[str]:
        return list(self.table.get((rule.severity, rule.service), []))

    def mutes_for(self, rule: Rule) -> list[str]:
        if rule.kind == "watchdog":
            return []                  # the Watchdog is never muted
        return self.plan.mutes_for(self.model, rule.severity, rule.service)

    def describe(self, name: str) -> str:
        """`slack` -> "slack (Slack #on-call-aitbc)"."""
        rcv = self.receivers.get(name)
        if rcv is None:
            return name
        kinds = []
        for key, label in (("pagerduty_configs", "PagerDuty"), ("slack_configs", "Slack"),
                           ("email_configs", "email"), ("webhook_configs", "webhook")):
            for c in rcv.get(key) or []:
                where = c.get("channel") or c.get("to") or c.get("url") or ""
                kinds.append(f"{label} {where}".strip())
        return f"{name} ({', '.join(kinds)})" if kinds else f"{name} (no notifications)"


def am_config(model) -> dict:
    """The Alertmanager configuration the target writes, as a dict."""
    from ..alertmanager import config

    return config.config(model, ["templates/*.tmpl"])
