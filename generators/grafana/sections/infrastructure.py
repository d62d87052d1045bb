"""Infrastructure sections: cluster, nodes, pods, network, storage, postgresql, redis.

Node panels filter on the dashboard's `node` variable (`instance=~"$node"`).
"""
from __future__ import annotations

from decimal import Decimal

from ...spec import kinds as K
from ..panels import (UP_STEPS, Query, Step, alert_steps, rate, selector, service_link, signal, stat,
                      timeseries, up_mappings)
from . import Row
from .overview import RESOURCE_SIGNALS, node_panels

NODE_VARIABLE = "node"
NODE_FILTER = (("instance", "=~", f"${NODE_VARIABLE}"),)
BAD_IF_ANY = [Step(None, "green"), Step(Decimal(1), "red")]


def of_kind(model, kind: str):
    return [s for s in model.services if s.kind == kind]


def _named(svcs, svc, title: str) -> str:
    """`title`, prefixed with the service's name when several services share the section."""
    return f"{svc.name}: {title}" if len(svcs) > 1 else title


def cluster(model, dash) -> list[Row]:
    svcs = of_kind(model, "kubernetes")
    panels = []
    for s in svcs:
        if s.metric("node_condition"):
            ready = selector(s, "node_condition", 'condition="Ready",status="true"')
            not_ready = selector(s, "node_condition", 'condition="Ready",status!="true"')
            pressure = selector(s, "node_condition", 'condition=~".+Pressure",status="true"')
            panels += [
                stat(_named(svcs, s, "Ready nodes"), "Nodes whose Ready condition is true.", "short",
                     [Query(f"sum({ready})")], graph=False),
                stat(_named(svcs, s, "Nodes not ready"), "Nodes whose Ready condition is false or unknown.",
                     "short", [Query(f"sum({not_ready})")], steps=BAD_IF_ANY, graph=False, no_value="0"),
                stat(_named(svcs, s, "Nodes under pressure"),
                     "Nodes reporting memory, disk or PID pressure.", "short",
                     [Query(f"sum({pressure})")], steps=BAD_IF_ANY, graph=False, no_value="0"),
            ]
        if s.metric("pod_phase"):
            stuck = selector(s, "pod_phase", 'phase=~"Pending|Failed|Unknown"')
            panels.append(stat(_named(svcs, s, "Pods not running"),
                               "Pods in the Pending, Failed or Unknown phase.", "short",
                               [Query(f"sum({stuck})")], steps=BAD_IF_ANY, graph=False, no_value="0"))
    return [Row("Cluster health", panels)] if panels else []


def nodes(model, dash) -> list[Row]:
    panels = node_panels(model, RESOURCE_SIGNALS[:2], NODE_FILTER, width=12, link_infra=False)
    return [Row("Nodes", panels)] if panels else []


def pods(model, dash) -> list[Row]:
    svcs = of_kind(model, "kubernetes")
    panels = []
    for s in svcs:
        if s.metric("pod_phase"):
            panels.append(timeseries(
                _named(svcs, s, "Pods by phase"), "Number of pods in each phase.", "short",
                [Query(f"sum by (phase) ({selector(s, 'pod_phase')})", "{{phase}}")], stack=True))
        if s.metric("pod_restarts"):
            # The restart count is over the alert's window, so its threshold line means what the alert means.
            window = next((a.window for a in s.alerts if a.signal == "pod_restarts"), None)
            panels.append(timeseries(
                _named(svcs, s, "Container restarts"),
                f"Container restarts per pod over the last {window or K.SIGNALS['pod_restarts'].window}, "
                "the pod-restarts alert's window. Dashed line: its threshold.", "short",
                [Query(signal(s, "pod_restarts", window=window), "{{namespace}}/{{pod}}")],
                steps=alert_steps(model, [s], "pod_restarts"), min_value=0))
    return [Row("Pods", panels)] if panels else []


def network(model, dash) -> list[Row]:
    svcs = of_kind(model, "kubernetes")
    panels = []
    for s in svcs:
        for key, what in (("network_receive", "received"), ("network_transmit", "transmitted")):
            if s.metric(key):
                panels.append(timeseries(
                    _named(svcs, s, f"Network {what}"), f"Bytes {what} per second by each node, all interfaces.",
                    "Bps", [Query(rate(selector(s, key, extra=NODE_FILTER), "instance"), "{{instance}}")],
                    min_value=0))
    return [Row("Network", panels)] if panels else []


def storage(model, dash) -> list[Row]:
    svcs = of_kind(model, "kubernetes")
    panels = node_panels(model, RESOURCE_SIGNALS[2:], NODE_FILTER, width=12, link_infra=False)
    for s in svcs:
        if s.metric("filesystem_available"):
            free = selector(s, "filesystem_available", K.REAL_FILESYSTEMS, extra=NODE_FILTER)
            panels.append(timeseries(
                _named(svcs, s, "Filesystem space available"),
                "Bytes available to unprivileged users on each node's real filesystems.", "bytes",
                [Query(f"min by (instance, mountpoint) ({free})", "{{instance}} {{mountpoint}}")], min_value=0))
    return [Row("Storage", panels)] if panels else []


def _up(model, svc):
    return stat(f"{svc.name} up", f"{svc.description}. 1 while the exporter reaches the server.", "none",
                [Query(signal(svc, "up"))], steps=UP_STEPS, mappings=up_mappings(),
                links=[service_link(model, svc)], graph=False)


def _usage(model, s, used: tuple[str, str], limit: tuple[str, str], ratio: str, title: str, what: str,
           unit: str) -> list:
    """`what` against its limit, and their ratio against the alert thresholds (`used`/`limit`:
    metric key and aggregation)."""
    if not (s.metric(used[0]) and s.metric(limit[0])):
        return []
    return [
        timeseries(f"{s.name} {title}", f"{what} against the configured limit ({s.metric(limit[0]).name}).", unit,
                   [Query(f"{agg}({selector(s, key)})", key) for key, agg in (used, limit)], min_value=0),
        timeseries(f"{s.name} {title} usage", f"{what} over the limit. Dashed lines: the alert thresholds.",
                   "percentunit", [Query(signal(s, ratio), "used")], steps=alert_steps(model, [s], ratio),
                   min_value=0, max_value=1),
    ]


def _per_service(model, kind: str, panels_of) -> list[Row]:
    """One row per service of `kind`: its up stat, then `panels_of(model, service)`."""
    rows = []
    for s in of_kind(model, kind):
        panels = ([_up(model, s)] if s.metric("up") else []) + panels_of(model, s)
        if panels:
            rows.append(Row(s.name, panels))
    return rows


def _postgresql(model, s) -> list:
    panels = _usage(model, s, ("connections", "sum"), ("max_connections", "max"), "connection_ratio",
                    "connections", "Open connections", "short")
    if s.metric("replica_lag"):
        panels.append(timeseries(
            f"{s.name} replica lag", "Replication lag of the slowest read replica. Dashed lines: the alert thresholds.",
            "s", [Query(signal(s, "replica_lag_seconds"), "lag")],
            steps=alert_steps(model, [s], "replica_lag_seconds"), min_value=0))
    if s.metric("max_tx_duration"):
        panels.append(timeseries(
            f"{s.name} longest transaction", "Age of the oldest open transaction: long queries and idle-in-transaction.",
            "s", [Query(f"max({selector(s, 'max_tx_duration')})", "longest")], min_value=0))
    return panels


def _redis(model, s) -> list:
    panels = _usage(model, s, ("memory_used", "max"), ("memory_max", "max"), "redis_memory_ratio", "memory",
                    "Memory used", "bytes")
    for key, sig, title, what in (
            ("evicted_keys", "eviction_rate", "evictions", "Keys evicted per second."),
            ("rejected_connections", "rejected_connection_rate", "rejected connections",
             "Client connections rejected per second (maxclients reached).")):
        if s.metric(key):
            panels.append(timeseries(
                f"{s.name} {title}", f"{what} Dashed lines: the alert thresholds.", "ops",
                [Query(signal(s, sig), title)], steps=alert_steps(model, [s], sig), min_value=0))
    if s.metric("clients"):
        panels.append(timeseries(f"{s.name} clients", "Connected clients.", "short",
                                 [Query(f"sum({selector(s, 'clients')})", "clients")], min_value=0))
    return panels


def postgresql(model, dash) -> list[Row]:
    return _per_service(model, "postgresql", _postgresql)


def redis(model, dash) -> list[Row]:
    return _per_service(model, "redis", _redis)


SECTIONS = {"cluster": cluster, "nodes": nodes, "pods": pods, "network": network, "storage": storage,
            "postgresql": postgresql, "redis": redis}
