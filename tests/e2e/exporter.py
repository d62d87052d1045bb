"""A synthetic exporter: the series the spec's selectors name, with knobs the tests turn.

One HTTP server thread on 127.0.0.1 serves one scrape target per job: the series of a
service go to the target of the `job` its metric selector names (the service's
`selector`, or the metric's own `{...}` matchers), so Prometheus adds the same `job`
label the generated rules select on. Other equality matchers become series labels.

Counters and histograms advance in real time at plausible rates (50 requests/s per
HTTP service, one block per `block_time`, ...), integrated at each scrape with the
knobs in force since the last one, so `rate()` works at short windows.

Knobs (per service, `Exporter.set(service_id, **knobs)`):
  down         the service is down: an `up`-kind service's target answers 503 (so
               Prometheus records up=0); an exporter-style one (pg_up, redis_up) reports 0
  errors       share of requests answered 500;  unavailable: share answered 503
  latency      seconds every request takes (histogram observations)
  rps          requests per second
  stalled      the chain adds no blocks;  block_time: seconds between blocks
  replica_lag  seconds (postgresql);  probe: health-check result (0 or 1)
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from generators.spec.values import parse_matchers

DEFAULT_KNOBS = dict(down=False, errors=0.0, unavailable=0.0, latency=0.03, rps=50.0,
                     stalled=False, block_time=1.5, tps=150.0, replica_lag=0.5, probe=1.0)
DEFAULT_BUCKETS = {
    "duration": (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    "block_time": (0.5, 1, 1.5, 2, 3, 5, 10),
    "finality": (1, 2, 5, 10, 20, 30, 60),
}
FAMILY_OF_HISTOGRAM = {"duration": "latency", "block_time": "block_time", "finality": "finality"}
# Gauges: (value, extra labels); a callable takes the knobs.
GAUGES = {
    "probe": lambda k: k["probe"],
    "queue_depth": 12, "active_users": 140,
    "peers_connected": 40, "peers_expected": 50,
    "connections": 20, "max_connections": 100,
    "replica_lag": lambda k: k["replica_lag"],
    "memory_used": 200e6, "memory_max": 1e9, "clients": 15,
    "memory_available": 5e9, "memory_total": 8e9,
    "filesystem_available": 60e9, "filesystem_size": 100e9,
    "pod_phase": 1, "node_condition": 1,
}
GAUGE_LABELS = {
    "filesystem_available": {"mountpoint": "/", "fstype": "ext4", "device": "/dev/sda1"},
    "filesystem_size": {"mountpoint": "/", "fstype": "ext4", "device": "/dev/sda1"},
    "pod_phase": {"namespace": "aitbc", "pod": "coordinator-api-0", "phase": "Running"},
    "node_condition": {"node": "node-1", "condition": "Ready", "status": "true"},
    "connections": {"datname": "aitbc", "state": "active"},
}
# Counters: per-second rate (callable of the knobs) and extra labels.
COUNTERS = {
    "transactions": (lambda k: k["tps"], {}),
    "evicted_keys": (lambda k: 0.0, {}),
    "rejected_connections": (lambda k: 0.0, {}),
    "network_receive": (lambda k: 2e6, {"device": "eth0"}),
    "network_transmit": (lambda k: 1e6, {"device": "eth0"}),
    "pod_restarts": (lambda k: 0.0, {"namespace": "aitbc", "pod": "coordinator-api-0", "container": "app"}),
}
NODE_JOB = "e2e-node"          # target of series whose selector names no job
UP_KEY_SYNTHETIC = "up"        # the `up` metric Prometheus itself records


def _fmt(v: float) -> str:
    return repr(float(v)) if v != int(v) or abs(v) > 1e15 else str(int(v))


def _labels(d: dict) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(d.items()))
    return "{" + inner + "}" if inner else ""


def _success_rate_errors(service) -> dict[str, dict[str, str]]:
    """Counter key -> the labels a success-rate SLO counts as failures (`errors:` in the spec)."""
    out = {}
    for slo in service.slos:
        if slo.type != "success_rate" or not slo.error_series:
            continue
        name, _, inner = slo.error_series.partition("{")
        for key, metric in service.metrics:
            if metric.name == name:
                own = set(metric.matchers)
                out[key] = {n: v for n, op, v in parse_matchers(inner.rstrip("}"))
                            if op == "=" and (n, op, v) not in own}
    return out


class _Series:
    """The state of one service: counters integrated over time with its knobs."""

    def __init__(self, service, now: float):
        self.service = service
        self.metrics = dict(service.metrics)
        self.knobs = dict(DEFAULT_KNOBS)
        self.last = now
        self.requests = {"200": 0.0, "500": 0.0, "503": 0.0}
        self.histograms = {}       # key -> [bucket counts..., sum, count]
        self.counters = {k: 0.0 for k in self.metrics if self._is_counter(k)}
        self.height = 1_000_000.0
        self.error_labels = _success_rate_errors(service)   # counter key -> labels of failures
        self.failures = {key: 0.0 for key in self.error_labels}
        for key in self.metrics:
            if key in DEFAULT_BUCKETS:
                n = len(self.buckets(key))
                self.histograms[key] = [0.0] * n + [0.0, 0.0]

    def _is_counter(self, key: str) -> bool:
        return key in COUNTERS or key == "cpu" or (
            key not in ("requests",) and self.metrics[key].name.endswith("_total"))

    def buckets(self, key: str) -> tuple[float, ...]:
        if key == "duration" and self.service.histogram_buckets:
            return tuple(float(b) for b in self.service.histogram_buckets)
        return DEFAULT_BUCKETS[key]

    def _observe(self, key: str, value: float, n: float) -> None:
        h = self.histograms.get(key)
        if h is None or n <= 0:
            return
        for i, le in enumerate(self.buckets(key)):
            if value <= le:
                h[i] += n
        h[-2] += value * n
        h[-1] += n

    def advance(self, now: float) -> None:
        dt, self.last = max(0.0, now - self.last), now
        k = self.knobs
        if dt == 0:
            return
        if "requests" in self.metrics or "duration" in self.metrics:
            n = k["rps"] * dt
            self.requests["500"] += n * k["errors"]
            self.requests["503"] += n * k["unavailable"]
            self.requests["200"] += n * (1 - k["errors"] - k["unavailable"])
            self._observe("duration", k["latency"], n)
        if not k["stalled"]:
            blocks = dt / k["block_time"]
            self.height += blocks
            self._observe("block_time", k["block_time"], blocks)
            self._observe("finality", 3 * k["block_time"], blocks)
        for key in self.counters:
            if key == "cpu":
                continue
            rate = COUNTERS[key][0](k) if key in COUNTERS else 1.0
            if key in self.error_labels:
                rate = k["rps"] / 10
                self.failures[key] += rate * dt * k["errors"]
            self.counters[key] += rate * dt
        if "cpu" in self.counters:
            self.counters["cpu"] += dt          # seconds of one CPU, split by mode below

    def exposition(self) -> dict[str, list[str]]:
        """job -> exposition lines of this service's series."""
        out: dict[str, list[str]] = {}
        k = self.knobs
        for key, metric in sorted(self.metrics.items()):
            if key == UP_KEY_SYNTHETIC and metric.name == "up":
                continue
            base = {n: v for n, op, v in metric.matchers if op == "=" and n != "job"}
            job = next((v for n, op, v in metric.matchers if n == "job" and op == "="), NODE_JOB)
            lines = out.setdefault(job, [])
            name = metric.name
            if key == "up":
                lines += [f"# TYPE {name} gauge", f"{name}{_labels(base)} {0 if k['down'] else 1}"]
            elif key == "requests":
                lines.append(f"# TYPE {name} counter")
                lines += [f"{name}{_labels({**base, 'code': c, 'method': 'GET'})} {_fmt(v)}"
                          for c, v in sorted(self.requests.items())]
            elif key in self.histograms:
                h = self.histograms[key]
                lines.append(f"# TYPE {name} histogram")
                for le, c in zip(self.buckets(key), h):
                    lines.append(f"{name}_bucket{_labels({**base, 'le': _fmt(le)})} {_fmt(c)}")
                lines.append(f"{name}_bucket{_labels({**base, 'le': '+Inf'})} {_fmt(h[-1])}")
                lines += [f"{name}_sum{_labels(base)} {_fmt(h[-2])}", f"{name}_count{_labels(base)} {_fmt(h[-1])}"]
            elif key == "block_height":
                lines += [f"# TYPE {name} gauge", f"{name}{_labels(base)} {int(self.height)}"]
            elif key == "cpu":
                t = self.counters["cpu"]
                lines.append(f"# TYPE {name} counter")
                for mode, share in (("idle", 0.7), ("system", 0.1), ("user", 0.2)):
                    lines.append(f"{name}{_labels({**base, 'cpu': '0', 'mode': mode})} {_fmt(t * share)}")
            elif key in self.error_labels:
                bad = self.error_labels[key]
                good = {n: "ok" for n in bad}
                lines += [f"# TYPE {name} counter",
                          f"{name}{_labels({**base, **bad})} {_fmt(self.failures[key])}",
                          f"{name}{_labels({**base, **good})} {_fmt(self.counters[key] - self.failures[key])}"]
            elif key in self.counters:
                extra = COUNTERS.get(key, (None, {}))[1]
                lines += [f"# TYPE {name} counter", f"{name}{_labels({**base, **extra})} {_fmt(self.counters[key])}"]
            else:
                value = GAUGES.get(key, 1)
                value = value(k) if callable(value) else value
                lines += [f"# TYPE {name} gauge", f"{name}{_labels({**base, **GAUGE_LABELS.get(key, {})})} {_fmt(value)}"]
        return out

    @property
    def synthetic_up(self) -> bool:
        up = self.metrics.get("up")
        return up is not None and up.name == "up"


class Exporter:
    """The synthetic exporter for every service of `model`; `jobs` lists its scrape targets."""

    def __init__(self, model, clock=time.monotonic):
        self.clock = clock
        self.lock = threading.Lock()
        now = clock()
        self.series = {s.id: _Series(s, now) for s in model.services}
        self.jobs = sorted({job for s in self.series.values() for job in s.exposition()}
                           | {self._job_of(s) for s in self.series.values() if s.synthetic_up})
        self.server: ThreadingHTTPServer | None = None

    @staticmethod
    def _job_of(s: _Series) -> str:
        m = s.metrics["up"]
        return next((v for n, op, v in m.matchers if n == "job" and op == "="), NODE_JOB)

    def set(self, service: str, **knobs) -> None:
        """Change knobs of `service`; the past is integrated with the old values first."""
        unknown = set(knobs) - set(DEFAULT_KNOBS)
        if unknown:
            raise KeyError(f"unknown knobs {sorted(unknown)}")
        with self.lock:
            s = self.series[service]
            s.advance(self.clock())
            s.knobs.update(knobs)

    def scrape(self, job: str) -> str | None:
        """The exposition text of `job`'s target, or None when it is down (HTTP 503)."""
        with self.lock:
            now = self.clock()
            lines: list[str] = []
            for s in self.series.values():
                s.advance(now)
                if s.synthetic_up and s.knobs["down"] and self._job_of(s) == job:
                    return None
                lines += s.exposition().get(job, [])
        return "\n".join(lines) + "\n"

    # --- HTTP ---------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                job = self.path.split("?")[0].removeprefix("/metrics/")
                body = exporter.scrape(job) if job in exporter.jobs else None
                code = 200 if body is not None else (503 if job in exporter.jobs else 404)
                data = (body or "down\n").encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="e2e-exporter", daemon=True).start()
        return f"127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
