"""Overview sections at scale: one fleet row instead of a panel (or query) per service.

Most sections show one panel, or one query, per service. That reads well for the
dozen services of AITBC; for a thousand it gives overview dashboards of 5 MB (past
Kubernetes' 1 MiB ConfigMap limit, so the sidecar cannot even load them), thousands
of queries per page load, and panels nobody can read. A per-service selector is all
these queries have in common (services name their metrics and jobs as they like), so
a single query "by (service)" over raw metrics cannot be written in general; but
montool writes series that carry a `service` label for every service: its alerts
(`ALERTS{service, team, severity, signal}`, see the contract in notes) and the SLO
recording rules (`slo:*{service, slo}`). So above FLEET_QUERIES queries a section
becomes one fleet row of constant size:

- a table of the alerts firing now on the section's signals, one line per service,
  team, severity and alert, worst first (what an SRE looks at first: which of the
  thousand services needs attention);
- for `slo-compliance`: the SLOs with the least error budget left (bottomk), whatever
  their window.

The per-service detail stays one click away, on each service's SLO and RED
dashboards (the dashboards drop-down, tagged per team). Chosen over a `service`
template variable with repeated panels (each service's queries differ in more than
one label value, so the variable would have to carry whole queries) and over a split
per team (unbounded: a team of 300 services is as large).
"""
from __future__ import annotations

from ..panels import Query, Step, stat, table
from . import Row

# Above this many queries, a section's rows give way to its fleet row. AITBC's largest
# section has 9; a fleet row has 2.
FLEET_QUERIES = 48
WORST = 20  # SLOs listed by budget left

# The alert signals each section shows (see generators.spec.kinds.SIGNALS and the
# alert contract); a section not listed shows every signal.
SIGNALS = {
    "health": ("up", "probe_success", "absent"),
    "errors": ("error_ratio", "unavailable_ratio"),
    "latency": ("latency_p95",),
    "throughput": ("tps",),
    "resources": ("cpu_usage_ratio", "memory_usage_ratio", "disk_usage_ratio"),
    "nodes": ("cpu_usage_ratio", "memory_usage_ratio"),
    "storage": ("disk_usage_ratio",),
    "pods": ("pod_restarts",),
    "postgresql": ("up", "absent", "connection_ratio", "replica_lag_seconds"),
    "redis": ("up", "absent", "redis_memory_ratio", "eviction_rate", "rejected_connection_rate"),
    "blockchain": ("up", "absent", "new_blocks", "finality_p95", "peer_ratio", "tps", "slo_average"),
    "slo-compliance": ("error_budget_burn", "slo_average"),
}


def query_count(rows: list[Row]) -> int:
    return sum(len(p.queries) for r in rows for p in r.panels)


def fleet_rows(model, name: str, rows: list[Row]) -> list[Row]:
    """The section's rows, or its fleet row when they hold more than FLEET_QUERIES queries."""
    if query_count(rows) <= FLEET_QUERIES:
        return rows
    from .overview import firing_selector

    signals = SIGNALS.get(name)
    sel = firing_selector(model)
    if signals:
        sel = sel[:-1] + f', signal=~"{"|".join(signals)}"}}'
    title = rows[0].title if len(rows) == 1 else name.replace("-", " ").capitalize()
    panels = [
        stat(f"{title}: services alerting", f"Services with at least one {name} alert firing now, out of the "
             f"{len(model.services)} the spec monitors.", "short",
             [Query(f"count(count by (service) ({sel}))", instant=True)], width=6, height=8,
             steps=[Step(None, "green"), Step(1, "red")], graph=False, no_value="0"),
        table(f"{title}: alerts firing by service", f"The {name} alerts firing now, one line per service, team, "
              "severity and alert. Each service's SLO and RED dashboards (dashboards drop-down) have the detail; "
              "this overview shows no panel per service past "
              f"{FLEET_QUERIES} queries.", "short",
              [Query(f"sort_desc(count by (service, team, severity, alertname) ({sel}))", instant=True,
                     table=True)], hide=("Time",), width=18),
    ]
    if name == "slo-compliance" and model.slos:
        panels.append(table(
            f"SLOs with the least error budget left ({WORST})",
            f"The {WORST} SLOs (of {len(model.slos)}) with the smallest share of their period's error budget "
            "left; below zero the SLO is broken. Each service's SLO dashboard has the detail.",
            "percentunit", [Query(f"sort(bottomk({WORST}, slo:period_error_budget_remaining:ratio))",
                                  instant=True, table=True)], hide=("Time", "__name__"), width=24))
    return [Row(title, panels)]
