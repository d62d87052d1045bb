"""`montool explain ALERT|SLO [SPEC]`: where an alert or SLO comes from and what happens when it fires.

NAME is an alertname (`CoordinatorApiErrorRate`, `CoordinatorApiAvailabilityErrorBudgetBurn`),
an SLO name (`CoordinatorApiAvailability`) or `<service>/<slo id>`; case does not matter.
It prints the spec position (file:line), every rule's full PromQL, `for` and severity,
the Alertmanager receivers the alert reaches (the Alertmanager target's routing table)
and the PagerDuty escalation path with the delay of each level. For SLOs it prints the
burn-rate tiers with the SRE workbook arithmetic: the error ratio each tier fires at,
the share of the budget spent when it fires (factor x long window / period) and how
long a total outage takes to trip it (factor x error budget x long window).
"""
from __future__ import annotations

from .docs import facts as F
from .docs.pages import Context
from .emit import fmt_number


class UnknownName(LookupError):
    pass


def _slo(model, name: str):
    key = name.lower()
    for o in model.slos:
        if key in (o.name.lower(), f"{o.service}/{o.id}".lower()):
            return o
    return None


def _rule(ctx: Context, r: F.Rule) -> dict:
    routing = ctx.routing(r)
    policy, steps = F.escalation_path(ctx.model, r.severity)
    return {
        "severity": r.severity, "severity_name": routing["severity"]["name"],
        "respond_within": routing["severity"]["response"], "burn": r.label("burn"),
        "condition": r.condition, "expr": r.expr, "for": r.for_, "labels": dict(r.labels),
        "receivers": routing["receivers"], "muted_during": routing["muted"],
        "pagerduty_service": routing["pagerduty"],
        "escalation": {"policy": policy.id, "delay": str(policy.delay), "loops": policy.num_loops,
                       "levels": [{"level": s.number, "name": s.name, "target": s.target, "after": str(s.after)}
                                  for s in steps]} if policy else None,
    }


def _slo_facts(o) -> dict:
    return {
        "name": o.name, "service": o.service, "id": o.id, "type": o.type, "description": o.description,
        "source": f"{o.pos.file}:{o.pos.line}", "objective": F.pct(o.objective), "window": str(o.window),
        "error_budget": F.pct(o.error_budget),
        "budget_time": F.human(o.window * float(o.error_budget)),
        "threshold_seconds": fmt_number(o.threshold) if o.threshold is not None else None,
        "tiers": [{"name": b.name, "alert": b.alert, "severity": b.severity, "long": str(b.long),
                   "short": str(b.short), "factor": fmt_number(b.factor), "error_ratio": F.pct(b.error_ratio),
                   "budget_consumed": F.pct(b.budget_consumed, 2), "outage_detected_after": F.human(b.detection)}
                  for b in F.burn_facts(o)],
    }


def _alert(ctx: Context, d: F.AlertDoc) -> dict:
    first = d.rules[0]
    return {
        "alert": d.name, "service": d.service, "kind": d.kind,
        "source": f"{d.pos.file}:{d.pos.line}" if d.pos else None,
        "summary": first.annotation("summary") or (d.alert.summary if d.alert else ""),
        "runbook_url": first.annotation("runbook_url"), "dashboard_url": first.annotation("dashboard_url"),
        "rules": [_rule(ctx, r) for r in d.rules],
    }


def explain(model, name: str) -> dict:
    """The facts about alert or SLO `name` (raises UnknownName with suggestions)."""
    ctx = Context(model)
    slo = _slo(model, name)
    alerts = [d for d in ctx.alerts if d.name.lower() == name.lower()]
    if slo is None and alerts and alerts[0].slo is not None:
        slo = alerts[0].slo
    if slo is not None and not alerts:
        alerts = [d for d in ctx.alerts if d.slo is slo]
    if slo is None and not alerts:
        known = sorted({d.name for d in ctx.alerts} | {o.name for o in model.slos})
        close = [k for k in known if name.lower()[:8] in k.lower()] or known[:10]
        raise UnknownName(f"no alert or SLO named {name!r}; did you mean: {', '.join(close)}")
    facts = {"name": name, "slo": _slo_facts(slo) if slo is not None else None,
             "alerts": [_alert(ctx, d) for d in alerts]}
    for tier in facts["slo"]["tiers"] if facts["slo"] else []:
        tier["for"] = next((r["for"] for a in facts["alerts"] for r in a["rules"] if r["burn"] == tier["alert"]), "")
    return facts


def render_text(facts: dict) -> str:
    out: list[str] = []
    o = facts["slo"]
    if o:
        out += [f"SLO {o['name']} ({o['service']}/{o['id']}, {o['type']}) at {o['source']}",
                f"  {o['description']}" if o["description"] else "",
                f"  objective {o['objective']} over {o['window']}: error budget {o['error_budget']} "
                f"({o['budget_time']} of total outage per {o['window']})"]
        if o["tiers"]:
            out.append("  burn-rate tiers (SRE workbook, multiwindow):")
        for t in o["tiers"]:
            out.append(f"    {t['name']:<12} {t['severity']:<3} {t['factor']}x over {t['long']}/{t['short']}: "
                       f"error ratio > {t['error_ratio']}; fires after {t['budget_consumed']} of the "
                       f"{o['window']} budget is spent; a total outage trips it after {t['outage_detected_after']}"
                       + (f" (then `for` {t['for']})" if t["for"] else ""))
        if o["threshold_seconds"] and not o["tiers"]:
            out.append(f"  fires when the {o['window']} average exceeds {o['threshold_seconds']}s")
        out.append("")
    for a in facts["alerts"]:
        out.append(f"alert {a['alert']} ({a['service']})" + (f" at {a['source']}" if a["source"] else ""))
        if a["summary"]:
            out.append(f"  {a['summary']}")
        for r in a["rules"]:
            burn = f", {r['burn']} burn" if r["burn"] else ""
            out.append(f"  {r['severity']} ({r['severity_name']}{burn}), for {r['for']}, respond within "
                       f"{r['respond_within'] or '-'}:")
            if r["expr"]:
                out += ["    " + line for line in r["expr"].splitlines()]
            out.append(f"    condition: {r['condition']}")
            out.append(f"    receivers: {', '.join(r['receivers']) or 'none'}"
                       + (f"; muted during {', '.join(r['muted_during'])}" if r["muted_during"] else ""))
            esc = r["escalation"]
            if esc:
                path = "; ".join(f"{lv['level']}. {lv['name']}"
                                 + (f" ({lv['target']})" if lv["target"] != lv["name"] else "")
                                 + f" at +{lv['after']}" for lv in esc["levels"])
                out.append(f"    PagerDuty {r['pagerduty_service']}, policy {esc['policy']} "
                           f"({esc['delay']} per level, {esc['loops']} loop(s)): {path}")
            else:
                out.append("    does not page")
        if a["runbook_url"]:
            out.append(f"  runbook: {a['runbook_url']}")
        if a["dashboard_url"]:
            out.append(f"  dashboard: {a['dashboard_url']}")
        out.append("")
    return "\n".join(line for line in out if line is not None).rstrip("\n") + "\n"
