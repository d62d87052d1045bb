"""Every alert rule the Prometheus target generates, as plain dictionaries.

`alert_inventory(model)` is pure (no files): one entry per alerting rule, in rule
file order, with `name`, `service`, `severity`, `kind` (threshold, burn,
average, absent, watchdog), `condition` (in words), `expr`, `for`, `summary`,
`runbook_url`, `dashboard_url`, `labels` and `source` (`file:line:column` of the
spec node the rule comes from, or "" for the Watchdog). The docs, `explain` and
`diff` read it instead of parsing the rule files again.
"""
from __future__ import annotations


def alert_inventory(model) -> list[dict]:
    from . import service_alerts
    from .rules import watchdog_rule

    rules = []
    for svc in model.services:
        slo_rules, alerts = service_alerts(model, svc)
        rules += slo_rules + alerts
    rules.append(watchdog_rule(model))
    return [{
        "name": r.name, "service": r.service, "severity": r.severity, "kind": r.kind,
        "condition": r.condition, "expr": r.expr.strip(), "for": str(r.for_) if r.for_ else "",
        "summary": r.annotation("summary"), "runbook_url": r.annotation("runbook_url"),
        "dashboard_url": r.annotation("dashboard_url"), "labels": dict(r.labels),
        "source": f"{r.pos.file}:{r.pos.line}:{r.pos.column}" if r.pos else "",
    } for r in rules]
