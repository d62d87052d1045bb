"""Service kinds and signals: the vocabulary alerts, SLOs and dashboards are written in.

A *kind* (http-api, postgresql, ...) names the metrics its standard exporter
exposes; a service may rename any of them under `metrics:` (a value with
`{...}` matchers replaces the service's selector for that metric, for example
`probe_success{job="blackbox",instance="https://explorer.aitbc.io"}`).

A *signal* is one number per service (or per node for node-level signals)
computed from those metrics: `error_ratio`, `latency_p95`, `up`, ... Alert rules
in the spec compare a signal with a threshold written in the signal's unit.
The PromQL of each signal is defined here, once; the Prometheus generator, the
dashboards and the test builder all use it.
"""
from __future__ import annotations

from dataclasses import dataclass

# Units: how a threshold is written in the spec and what the PromQL value means.
RATIO = "ratio"      # "10%" or 0.1; the value is a fraction
SECONDS = "seconds"  # "500ms", "2s"; the value is in seconds
COUNT = "count"      # a plain number
PER_SECOND = "per_second"  # events per second
BOOL = "bool"        # 0 or 1

HTTP_METRICS = {
    "up": "up",
    "requests": "http_requests_total",          # counter with a `code` label
    "duration": "http_request_duration_seconds",  # histogram (base name)
    "probe": "probe_success",                    # blackbox_exporter
}

KINDS: dict[str, dict[str, str]] = {
    "http-api": dict(HTTP_METRICS),
    "web-ui": dict(HTTP_METRICS),
    "key-management-daemon": dict(HTTP_METRICS),
    "blockchain-node": {
        "up": "up",
        "block_height": "aitbc_block_height",
        "block_time": "aitbc_block_time_seconds",           # histogram (base name)
        "finality": "aitbc_finality_latency_seconds",        # histogram (base name)
        "peers_connected": "aitbc_peers_connected",
        "peers_expected": "aitbc_peers_expected",
        "transactions": "aitbc_transactions_total",
    },
    "postgresql": {  # postgres_exporter
        "up": "pg_up",
        "connections": "pg_stat_activity_count",
        "max_connections": "pg_settings_max_connections",
        "replica_lag": "pg_replication_lag_seconds",
        "max_tx_duration": "pg_stat_activity_max_tx_duration",   # long-running queries
    },
    "redis": {  # redis_exporter
        "up": "redis_up",
        "memory_used": "redis_memory_used_bytes",
        "memory_max": "redis_memory_max_bytes",
        "evicted_keys": "redis_evicted_keys_total",
        "rejected_connections": "redis_rejected_connections_total",
        "clients": "redis_connected_clients",
    },
    "kubernetes": {  # node_exporter and kube-state-metrics
        "cpu": "node_cpu_seconds_total",
        "memory_available": "node_memory_MemAvailable_bytes",
        "memory_total": "node_memory_MemTotal_bytes",
        "filesystem_available": "node_filesystem_avail_bytes",
        "filesystem_size": "node_filesystem_size_bytes",
        "network_receive": "node_network_receive_bytes_total",
        "network_transmit": "node_network_transmit_bytes_total",
        "pod_restarts": "kube_pod_container_status_restarts_total",
        "pod_phase": "kube_pod_status_phase",
        "node_condition": "kube_node_status_condition",
    },
}

HTTP_LIKE = ("http-api", "web-ui", "key-management-daemon")

# Histogram metrics: the series are <base>_bucket, <base>_sum, <base>_count.
HISTOGRAMS = frozenset({"duration", "block_time", "finality"})

REAL_FILESYSTEMS = 'fstype!~"tmpfs|overlay|squashfs"'


@dataclass(frozen=True)
class Signal:
    name: str
    unit: str
    needs: tuple[str, ...]   # metric keys
    template: str            # PromQL; {metric_key} is the selector of that metric,
                             # {metric_key:extra matchers} adds matchers, {w} the window
    by: tuple[str, ...] = ()  # labels the signal keeps (node-level signals)
    window: str = "5m"       # default rate window
    description: str = ""


def _s(name, unit, needs, template, by=(), window="5m", description=""):
    return Signal(name, unit, tuple(needs), template, tuple(by), window, description)


SIGNALS: dict[str, Signal] = {s.name: s for s in [
    _s("up", BOOL, ["up"], "max({up})", description="1 while any target is up"),
    _s("probe_success", BOOL, ["probe"], "min({probe})", description="1 while every health check succeeds"),
    _s("error_ratio", RATIO, ["requests"],
       'sum(rate({requests:code=~"5.."}[{w}])) / sum(rate({requests}[{w}]))',
       description="share of requests answered with a 5xx status"),
    _s("unavailable_ratio", RATIO, ["requests"],
       'sum(rate({requests:code="503"}[{w}])) / sum(rate({requests}[{w}]))',
       description="share of requests answered with 503"),
    _s("latency_p95", SECONDS, ["duration"],
       "histogram_quantile(0.95, sum by (le) (rate({duration_bucket}[{w}])))",
       description="95th percentile request duration"),
    _s("queue_depth", COUNT, ["queue_depth"], "max({queue_depth})", description="jobs waiting"),
    _s("replica_lag_seconds", SECONDS, ["replica_lag"], "max({replica_lag})",
       description="replication lag of the slowest replica"),
    _s("connection_ratio", RATIO, ["connections", "max_connections"],
       "sum({connections}) / max({max_connections})",
       description="open connections over max_connections"),
    _s("redis_memory_ratio", RATIO, ["memory_used", "memory_max"],
       "max({memory_used} / ({memory_max} > 0))", description="used memory over maxmemory"),
    _s("eviction_rate", PER_SECOND, ["evicted_keys"], "sum(rate({evicted_keys}[{w}]))",
       description="keys evicted per second"),
    _s("rejected_connection_rate", PER_SECOND, ["rejected_connections"],
       "sum(rate({rejected_connections}[{w}]))", description="connections rejected per second"),
    _s("new_blocks", COUNT, ["block_height"], "max(delta({block_height}[{w}]))",
       description="blocks added to the chain over the window"),
    _s("finality_p95", SECONDS, ["finality"],
       "histogram_quantile(0.95, sum by (le) (rate({finality_bucket}[{w}])))",
       description="95th percentile time to finality"),
    _s("peer_ratio", RATIO, ["peers_connected", "peers_expected"],
       "min({peers_connected} / {peers_expected})", description="connected peers over expected peers"),
    _s("tps", PER_SECOND, ["transactions"], "sum(rate({transactions}[{w}]))",
       description="transactions processed per second"),
    _s("cpu_usage_ratio", RATIO, ["cpu"],
       '1 - avg by (instance) (rate({cpu:mode="idle"}[{w}]))', by=("instance",),
       description="busy share of a node's CPU"),
    _s("memory_usage_ratio", RATIO, ["memory_available", "memory_total"],
       "max by (instance) (1 - {memory_available} / {memory_total})", by=("instance",),
       description="used share of a node's memory"),
    _s("disk_usage_ratio", RATIO, ["filesystem_available", "filesystem_size"],
       f"max by (instance, mountpoint) (1 - {{filesystem_available:{REAL_FILESYSTEMS}}}"
       f" / {{filesystem_size:{REAL_FILESYSTEMS}}})",
       by=("instance", "mountpoint"), description="used share of a node's filesystem"),
    _s("pod_restarts", COUNT, ["pod_restarts"],
       "max by (namespace, pod) (increase({pod_restarts}[{w}]))", by=("namespace", "pod"),
       window="1h", description="container restarts of a pod over the window"),
]}
