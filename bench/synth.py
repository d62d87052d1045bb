"""Synthetic specs for the benchmark: N services, a realistic mix of kinds.

The organisation-wide sections (severities, rotation, escalation, channels,
alert rules, dashboards) are the AITBC spec's; only `services` is synthetic.
Each service has the SLOs, alerts, runbooks and panels its kind would have.
"""
from __future__ import annotations

from pathlib import Path

import yaml

# kind -> share of services (sums to 100)
MIX = [("http-api", 40), ("web-ui", 15), ("key-management-daemon", 10), ("blockchain-node", 10),
       ("postgresql", 10), ("redis", 10), ("kubernetes", 5)]
BUCKETS = [0.05, 0.1, 0.2, 0.5, 1, 2.5, 5]


def kinds_for(n: int) -> list[str]:
    """Deterministic mix: service i gets the kind whose cumulative share covers i mod 100."""
    cumulative, table = 0, []
    for kind, share in MIX:
        cumulative += share
        table.append((cumulative, kind))
    return [next(k for c, k in table if (i * 37) % 100 < c) for i in range(n)]


def service(i: int, kind: str) -> dict:
    sid = f"svc-{i:04d}"
    s = {"name": f"Service {i:04d}", "description": f"Synthetic {kind} service", "kind": kind,
         "team": ["platform", "blockchain", "infrastructure"][i % 3], "selector": {"job": sid},
         "runbooks": {"triage": {"title": "Triage", "symptoms": ["Alerts firing"],
                                 "steps": ["Check the dashboard", "Check recent deployments", "Roll back"]}}}
    if kind in ("http-api", "web-ui", "key-management-daemon"):
        s["histogram_buckets"] = BUCKETS
        s["slos"] = {
            "availability": {"type": "availability", "objective": 99.9, "window": "30d"},
            "latency": {"type": "latency", "objective": 95, "threshold": "200ms", "window": "30d"},
        }
        if kind == "web-ui":  # a business SLO on its own counter, over a day (like the Marketplace UI)
            s["slos"]["orders"] = {"type": "success_rate", "metric": "orders", "errors": {"status": "failed"},
                                   "objective": 99.5, "window": "1d"}
        s["alerts"] = {"error-rate": {"runbook": "triage"}, "down": {"runbook": "triage"}}
        s["metrics"] = {"orders": f"synthetic_orders_{i}_total"}
        s["panels"] = [{"title": "Orders", "metric": "orders", "rate": True, "unit": "reqps",
                        "dashboard": "application-metrics"}]
    elif kind == "postgresql":
        s["runbooks"]["replica-lag"] = {"title": "Replica Lag", "steps": ["Check replica status"]}
    elif kind == "blockchain-node":
        s["slos"] = {"block-time": {"type": "average", "metric": "block_time", "threshold": "2s", "window": "24h"}}
        s["alerts"] = {"stalled": {"summary": "No new blocks.", "signal": "new_blocks", "op": "<=",
                                   "levels": {"P0": 0}, "for": "2m", "runbook": "triage"}}
    return s


def write_spec(n: int, folder: Path, base_spec: Path) -> Path:
    base = yaml.safe_load(base_spec.read_text())
    base["services"] = {f"svc-{i:04d}": service(i, k) for i, k in enumerate(kinds_for(n))}
    del base["alert_rules"]["queue-depth"]   # names an AITBC service
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False))
    return path
