"""The naive form of the SLO rules, for the evaluation cost comparison.

Every SLO window is computed from the raw counters, in every rule that needs it:
the error ratio `sum(rate(errors[w])) / sum(rate(total[w]))` (latency: the total
minus the good bucket) for each burn tier's long and short window, the low-traffic
guard `sum(rate(total[long])) >= min` for each tier, and one recording rule for
the period's error ratio (what the dashboards show). Same alerts, same windows,
same factors as the model; no recording rule is reused.
"""
from __future__ import annotations

from decimal import Decimal


def _num(d) -> str:
    text = format(Decimal(d).normalize(), "f")
    return text[:-2] if text.endswith(".0") else text


def error_ratio(slo, w) -> str | None:
    if slo.error_series:
        return f"(sum(rate({slo.error_series}[{w}])) / sum(rate({slo.total_series}[{w}])))"
    if slo.good_series:
        total = f"sum(rate({slo.total_series}[{w}]))"
        return f"(({total} - sum(rate({slo.good_series}[{w}]))) / {total})"
    return None


def slo_rules(slo) -> list[dict]:
    labels = {"service": slo.service, "slo": slo.id}
    if slo.type == "average":
        w = slo.window
        avg = f"sum(rate({slo.sum_series}[{w}])) / sum(rate({slo.count_series}[{w}]))"
        return [{"record": "naive:slo_average:period", "expr": avg, "labels": labels},
                {"alert": f"{slo.name}ObjectiveBreached", "expr": f"{avg} > {_num(slo.threshold)}",
                 "for": "5m", "labels": labels}]
    rules = [{"record": "naive:slo_error_ratio:period", "expr": error_ratio(slo, slo.window), "labels": labels}]
    budget = 1 - slo.objective
    for alert in ("page", "ticket"):
        parts = []
        for tier in (t for t in slo.tiers if t.alert == alert):
            limit = _num(tier.factor * budget)
            guard = f"sum(rate({slo.total_series}[{tier.long}])) >= {_num(slo.min_request_rate)}"
            parts.append(f"({error_ratio(slo, tier.long)} > {limit} and {error_ratio(slo, tier.short)} > {limit}"
                         f" and on() {guard})")
        if parts:
            rules.append({"alert": f"{slo.name}ErrorBudgetBurn", "expr": " or ".join(parts),
                          "labels": {**labels, "burn": alert}})
    return rules


def naive_groups(model, interval: str) -> dict:
    """One group per service with SLOs, like a hand-written file would have."""
    groups = []
    for svc in model.services:
        rules = [r for slo in svc.slos for r in slo_rules(slo) if r["expr"]]
        if rules:
            groups.append({"name": f"naive-{svc.id}", "interval": interval, "rules": rules})
    return {"groups": groups}
