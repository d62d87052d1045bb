"""System Overview sections: health, errors, latency, throughput, resources, alerts."""
from __future__ import annotations

from ...emit import fmt_number
from ...spec.values import render_matchers
from ..panels import (UNITS, UP_STEPS, Query, Step, alert_steps, dashboard_path, rate, selector,
                      service_link, signal, stat, table, timeseries, up_mappings)
from . import Row


def http_services(model, *needs: str):
    return [s for s in model.services if s.http_like and all(s.metric(k) for k in needs)]


def health(model, dash) -> list[Row]:
    panels = []
    for svc in model.services:
        queries = []
        if svc.metric("up"):
            queries.append(Query(signal(svc, "up"), "up"))
        if svc.metric("probe"):
            queries.append(Query(signal(svc, "probe_success"), "health check"))
        if not queries:
            continue
        panels.append(stat(
            svc.name,
            f"{svc.description}. Up: at least one scrape target answers"
            + ("; health check: every blackbox probe succeeds" if svc.metric("probe") else "")
            + ". Opens the service's dashboard.",
            "none", queries, width=4, steps=UP_STEPS, mappings=up_mappings(), links=[service_link(model, svc)],
            graph=False))
    return [Row("Service health", panels)] if panels else []


def client_error_ratio(svc, extra=()) -> str:
    return f"{rate(selector(svc, 'requests', CLIENT_ERRORS, extra=extra))} / {rate(selector(svc, 'requests', extra=extra))}"


CLIENT_ERRORS = 'code=~"4.."'


def errors(model, dash) -> list[Row]:
    svcs = http_services(model, "requests")
    if not svcs:
        return []
    five = timeseries(
        "5xx error ratio",
        "Share of requests answered with a server error (5xx), per service. Dashed lines: the error-rate alert thresholds.",
        "percentunit", [Query(signal(s, "error_ratio"), s.name) for s in svcs],
        steps=alert_steps(model, svcs, "error_ratio"), min_value=0)
    four = timeseries(
        "4xx error ratio",
        "Share of requests answered with a client error (4xx), per service. A rise often follows a breaking API change.",
        "percentunit",
        [Query(client_error_ratio(s), s.name) for s in svcs], min_value=0)
    return [Row("Errors", [five, four])]


def latency_steps(model, svc) -> tuple[list[Step], str]:
    """The service's latency SLO thresholds, or else its latency alert thresholds."""
    slos = sorted({o.threshold for o in svc.slos if o.type == "latency" and o.threshold is not None})
    if slos:
        return [Step(None, "green")] + [Step(t, "red") for t in slos], \
            "Dashed line: the latency SLO threshold (" + ", ".join(f"{fmt_number(t)}s" for t in slos) + ")."
    steps = alert_steps(model, [svc], "latency_p95")
    return steps, ("Dashed lines: the response-time alert thresholds." if steps else "")


def latency(model, dash) -> list[Row]:
    svcs = http_services(model, "duration")
    panels = []
    for svc in svcs:
        steps, note = latency_steps(model, svc)
        panels.append(timeseries(
            f"{svc.name} p95 latency", f"95th percentile request duration of {svc.name}. {note}".strip(),
            "s", [Query(signal(svc, "latency_p95"), "p95")], steps=steps, width=max(6, 24 // len(svcs)),
            links=[service_link(model, svc)], min_value=0))
    return [Row("Latency", panels)] if panels else []


def throughput(model, dash) -> list[Row]:
    panels = []
    svcs = http_services(model, "requests")
    if svcs:
        panels.append(timeseries(
            "Request rate", "Requests per second answered by each HTTP service, all status codes.", "reqps",
            [Query(rate(selector(s, "requests")), s.name) for s in svcs], min_value=0))
    chains = [s for s in model.services if s.metric("transactions")]
    if chains:
        panels.append(timeseries(
            "Transactions per second",
            "Transactions processed per second. Dashed lines: the throughput alert floor.",
            UNITS["per_second"], [Query(signal(s, "tps"), s.name) for s in chains],
            steps=alert_steps(model, chains, "tps"), min_value=0))
    return [Row("Throughput", panels)] if panels else []


RESOURCE_SIGNALS = (
    ("cpu_usage_ratio", "Node CPU utilisation", "Busy share of each node's CPU.", "{{instance}}"),
    ("memory_usage_ratio", "Node memory utilisation", "Used share of each node's memory.", "{{instance}}"),
    ("disk_usage_ratio", "Node disk utilisation", "Used share of each node's real filesystems.",
     "{{instance}} {{mountpoint}}"),
)


def node_panels(model, signals=RESOURCE_SIGNALS, extra=(), width=8, link_infra=True):
    from ...spec import kinds as K

    panels = []
    infra = model.dashboard_uid("infrastructure")
    has_infra = link_infra and any(d.id == "infrastructure" for d in model.dashboards)
    for name, title, what, legend in signals:
        svcs = [s for s in model.services if all(s.metric(k) for k in K.SIGNALS[name].needs)]
        if not svcs:
            continue
        prefix = lambda s: f"{s.name} " if len(svcs) > 1 else ""  # noqa: E731
        panels.append(timeseries(
            title, f"{what} Dashed lines: the alert thresholds.", "percentunit",
            [Query(signal(s, name, extra), prefix(s) + legend) for s in svcs],
            steps=alert_steps(model, svcs, name), min_value=0, max_value=1, width=width,
            links=[("Infrastructure dashboard", dashboard_path(infra))] if has_infra else ()))
    return panels


def resources(model, dash) -> list[Row]:
    panels = node_panels(model)
    return [Row("Resource utilisation", panels)] if panels else []


def firing_selector(model) -> str:
    """Firing alerts of this organisation (its labels), without the always-firing Watchdog."""
    matchers = (("alertstate", "=", "firing"), ("alertname", "!=", "Watchdog")) + tuple(
        (k, "=", v) for k, v in model.organization.labels)
    return f"ALERTS{{{render_matchers(matchers)}}}"


def alerts(model, dash) -> list[Row]:
    sel = firing_selector(model)
    steps = [Step(None, "green"), Step(1, "red")]
    by_severity = stat(
        "Firing alerts", "Alerts firing now, per severity (the Watchdog, which always fires, is left out).",
        "short", [Query(f"count by (severity) ({sel})", "{{severity}}", instant=True)], width=6, height=8,
        steps=steps, graph=False, no_value="0")
    listing = table(
        "Firing alerts by service", "Every alert firing now with its labels; the Alertmanager has the details.",
        "short", [Query(sel, instant=True, table=True)], hide=("Time", "Value", "__name__", "alertstate"),
        width=18)
    return [Row("Alerts", [by_severity, listing])]


SECTIONS = {"health": health, "errors": errors, "latency": latency, "throughput": throughput,
            "resources": resources, "alerts": alerts}
