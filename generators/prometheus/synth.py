"""Series synthesisers: which raw series make a signal equal a target value.

For every signal of `generators/spec/kinds.py` there is one function here that,
given the service's metrics and a target value, returns the input series of a
promtool test (`series -> values` in promtool's expanding notation, one sample
per `step`) for which the signal's PromQL evaluates to exactly that value once
its window is full, plus the labels the signal keeps (`by`). The arithmetic is
the signal's definition read backwards, never an evaluation of the rules:

- ratios of counters: two counters whose rates are `v * R` and `(1 - v) * R`;
- quantiles: a histogram whose buckets put 90% of observations at or below
  `v/2` and all of them at or below `3v/2`, so linear interpolation inside the
  `(v/2, 3v/2]` bucket puts the 95th percentile exactly at `v`;
- gauges: the value itself; ratios of gauges: `v * D` over `D`;
- `delta`/`increase` over a window `w`: a series that grows by `v` per `w`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ..emit import fmt_number
from ..spec import kinds as K
from ..spec.values import Duration, Metric, parse_matchers

TRAFFIC = 10          # requests (or observations) per second behind every ratio
NODE = {"instance": "node-1:9100"}
CANDIDATES = ("500", "503", "200", "ok", "failed", "error", "true", "false", "ext4", "idle", "x")


@dataclass(frozen=True)
class Synthesis:
    series: dict[str, str]       # promtool series text -> values
    labels: dict[str, str]       # labels the signal's result keeps


def satisfies(op: str, pattern: str, value: str) -> bool:
    if op == "=":
        return value == pattern
    if op == "!=":
        return value != pattern
    hit = re.fullmatch(pattern, value) is not None
    return hit if op == "=~" else not hit


def concrete_labels(matchers) -> dict[str, str]:
    """Label values a real series selected by `matchers` could have ("" = no such label)."""
    out: dict[str, str] = {}
    for name, op, pattern in matchers:
        if op == "=":
            out[name] = pattern
            continue
        options = ["", *CANDIDATES, *pattern.split("|")] if op == "=~" else ["", *CANDIDATES]
        value = next((c for c in options if satisfies(op, pattern, c)), None)
        if value is None:
            raise ValueError(f"no label value satisfies {name}{op}{pattern!r}")
        out[name] = value
    return {k: v for k, v in out.items() if v}


def series_text(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}" if inner else name


def selector_series(selector: str, extra: dict[str, str] | None = None) -> str:
    """`http_requests_total{job="a",code=~"5.."}` -> a concrete series it selects."""
    name, _, rest = selector.partition("{")
    labels = concrete_labels(parse_matchers(rest.rstrip("}"))) if rest else {}
    return series_text(name, {**labels, **(extra or {})})


def metric_series(m: Metric, suffix: str = "", extra: str = "", labels: dict | None = None) -> str:
    matchers = tuple(m.matchers) + (parse_matchers(extra) if extra else ())
    return series_text(m.name + suffix, {**concrete_labels(matchers), **(labels or {})})


def gauge(v: float, steps: int) -> str:
    return f"{fmt_number(v)}+0x{steps}"


def counter(rate: float, step: Duration, steps: int) -> str:
    return f"0+{fmt_number(rate * step.seconds)}x{steps}"


class _Ctx:
    def __init__(self, metrics: dict[str, Metric], window: Duration, step: Duration, steps: int):
        self.m, self.window, self.step, self.steps = metrics, window, step, steps

    def g(self, key, v, extra="", labels=None, suffix=""):
        return {metric_series(self.m[key], suffix, extra, labels): gauge(v, self.steps)}

    def c(self, key, rate, extra="", labels=None, suffix=""):
        return {metric_series(self.m[key], suffix, extra, labels): counter(rate, self.step, self.steps)}

    def split(self, key, v, bad: str, good: str):
        """A counter with `bad` (matchers) at v x TRAFFIC and `good` at the rest."""
        return {**self.c(key, v * TRAFFIC, bad), **self.c(key, (1 - v) * TRAFFIC, good)}

    def histogram(self, key, v):
        lo, hi = v / 2, v * 3 / 2
        out = {}
        for le, share in ((lo, 0.9), (hi, 1.0), (None, 1.0)):
            le_text = "+Inf" if le is None else fmt_number(le)
            out.update(self.c(key, share * TRAFFIC, labels={"le": le_text}, suffix="_bucket"))
        return out


def _node(extra=None):
    return {**NODE, **(extra or {})}


_DISK = {"mountpoint": "/", "device": "/dev/sda1", "fstype": "ext4"}
_POD = {"namespace": "aitbc", "pod": "app-0", "container": "app"}

SYNTHESISERS = {
    "up": lambda x, v: x.g("up", v),
    "probe_success": lambda x, v: x.g("probe", v),
    "error_ratio": lambda x, v: x.split("requests", v, 'code="500"', 'code="200"'),
    "unavailable_ratio": lambda x, v: x.split("requests", v, 'code="503"', 'code="200"'),
    "latency_p95": lambda x, v: x.histogram("duration", v),
    "finality_p95": lambda x, v: x.histogram("finality", v),
    "queue_depth": lambda x, v: x.g("queue_depth", v),
    "replica_lag_seconds": lambda x, v: x.g("replica_lag", v),
    "connection_ratio": lambda x, v: {**x.g("connections", v * 100), **x.g("max_connections", 100)},
    "redis_memory_ratio": lambda x, v: {**x.g("memory_used", v * 2**30), **x.g("memory_max", 2**30)},
    "eviction_rate": lambda x, v: x.c("evicted_keys", v),
    "rejected_connection_rate": lambda x, v: x.c("rejected_connections", v),
    "new_blocks": lambda x, v: x.c("block_height", v / x.window.seconds),
    "peer_ratio": lambda x, v: {**x.g("peers_connected", v * 100), **x.g("peers_expected", 100)},
    "tps": lambda x, v: x.c("transactions", v),
    "cpu_usage_ratio": lambda x, v: x.c("cpu", 1 - v, labels=_node({"cpu": "0", "mode": "idle"})),
    "memory_usage_ratio": lambda x, v: {**x.g("memory_available", (1 - v) * 2**34, labels=_node()),
                                        **x.g("memory_total", 2**34, labels=_node())},
    "disk_usage_ratio": lambda x, v: {**x.g("filesystem_available", (1 - v) * 2**40, labels=_node(_DISK)),
                                      **x.g("filesystem_size", 2**40, labels=_node(_DISK))},
    "pod_restarts": lambda x, v: x.c("pod_restarts", v / x.window.seconds, labels=_POD),
}
KEPT = {"cpu_usage_ratio": NODE, "memory_usage_ratio": NODE, "disk_usage_ratio": {**NODE, "mountpoint": "/"},
        "pod_restarts": {"namespace": "aitbc", "pod": "app-0"}}


def synthesise(metrics: dict[str, Metric], signal: str, value: Decimal | float, window: Duration,
               step: Duration, steps: int) -> Synthesis:
    """Input series (one sample per `step`, `steps` + 1 samples) for which `signal` is `value`."""
    if signal not in SYNTHESISERS:
        raise KeyError(f"no series synthesiser for signal {signal!r}")
    series = SYNTHESISERS[signal](_Ctx(metrics, window, step, steps), float(value))
    labels = dict(KEPT.get(signal, {}))
    if set(labels) != set(K.SIGNALS[signal].by):
        raise ValueError(f"the synthesiser of {signal!r} keeps {sorted(labels)}, the signal {K.SIGNALS[signal].by}")
    return Synthesis(series, labels)


def merge(*parts: Synthesis) -> dict[str, str]:
    """The series of several signals together; the same series with two histories is an error."""
    out: dict[str, str] = {}
    for p in parts:
        for s, values in p.series.items():
            if out.get(s, values) != values:
                raise ValueError(f"series {s} would need two different histories")
            out[s] = values
    return out
