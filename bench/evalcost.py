"""Rule evaluation cost: the generated SLO rules against the naive form, in a real Prometheus.

    .venv/bin/python bench/evalcost.py [--services 5] [--history 30d] [--interval 10s]

For N synthetic services (bench/synth.py) it compiles the spec, keeps the SLO
rules of the GENERATED rule files (burn-rate and objective alerts, recording
rules labelled with an SLO, and every recording rule they read, transitively),
and writes the naive form of the same alerts from the model (bench/naive.py).
Each form runs in its own Prometheus (Debian 2.42, on 127.0.0.1, a free port,
a temp dir), over the same backfilled history:

1. raw series for every SLO (bench/evalseries.py), `--history` long, one sample
   per scrape interval of the spec, up to now;
2. the generated form also gets the history of its recorded series: a first
   Prometheus run finds the series the recording rules create, and they are
   backfilled at their group's own interval, so `sum_over_time(...[30d])` reads
   as many samples as in production (up to the history length);
3. the groups' `interval` is shortened to `--interval` in the copies loaded, so
   a few evaluation cycles take seconds; the cost of one cycle does not depend on
   the interval. The first two cycles (cold caches) are not counted.

Reported per form: the sum over groups of `prometheus_rule_group_last_duration_seconds`
(median of the counted cycles), the samples one cycle reads (Prometheus's own query
statistics, `stats=all`, for each rule's expression), both also per minute of
production (each group weighted by 60 s / its own interval: the generated period
group runs every minute, the naive rules at the spec's evaluation interval), and
the number of series the recording rules create, in total and per SLO. The default
history is the full 30-day period at the spec's scrape interval (about 25 million
samples for 5 services, 3-4 minutes in all); a shorter --history bounds every
window of both forms alike. Every Prometheus is stopped by its PID.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from evalseries import import_chunks, raw_series, write_chunks  # noqa: E402
from naive import naive_groups  # noqa: E402
from synth import write_spec  # noqa: E402

from generators.compiler import compile_spec  # noqa: E402
from generators.spec.values import Duration  # noqa: E402

_TOKEN = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
SLO_SIGNALS = ("error_budget_burn", "slo_average")


# --- the generated SLO rules ---------------------------------------------------------

def _is_slo_rule(rule: dict) -> bool:
    labels = rule.get("labels") or {}
    if "alert" in rule:
        return "slo" in labels or labels.get("signal") in SLO_SIGNALS
    return "slo" in labels or rule["record"].startswith("slo:")


def slo_subset(docs: dict[str, dict], interval: str) -> tuple[dict[str, dict], dict[str, Duration], dict[str, Duration]]:
    """The SLO rules of the generated files and every recording rule they read.

    Returns the filtered copies (groups' interval set to `interval`) and the
    intervals the groups had: per recording rule name, and per group name.
    """
    rules = [(path, gi, rule) for path, doc in docs.items()
             for gi, group in enumerate(doc.get("groups") or []) for rule in group.get("rules") or []]
    records = {r["record"] for _, _, r in rules if "record" in r}
    keep = {id(r) for _, _, r in rules if _is_slo_rule(r)}
    needed: set[str] = set()
    changed = True
    while changed:
        wanted = {t for _, _, r in rules if id(r) in keep for t in _TOKEN.findall(str(r["expr"]))} & records
        changed = bool(wanted - needed)
        needed |= wanted
        keep |= {id(r) for _, _, r in rules if r.get("record") in needed}
    out, intervals, group_intervals = {}, {}, {}
    default = Duration.parse("30s")
    for path, doc in docs.items():
        groups = []
        for group in doc.get("groups") or []:
            kept = [r for r in group.get("rules") or [] if id(r) in keep]
            every = Duration.parse(group["interval"]) if group.get("interval") else default
            for r in kept:
                if "record" in r:
                    intervals[r["record"]] = min(intervals.get(r["record"], every), every)
            if kept:
                groups.append({**group, "interval": interval, "rules": kept})
                group_intervals[group["name"]] = every
        if groups:
            out[path] = {"groups": groups}
    return out, intervals, group_intervals


# --- one Prometheus -----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    """A Prometheus on 127.0.0.1 over `data`, loading `rule_files`; stopped by PID on exit."""

    def __init__(self, data: Path, rule_files: list[Path], interval: str, log: Path):
        self.data, self.rule_files, self.interval, self.log = data, rule_files, interval, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Prometheus":
        config = self.data.parent / f"{self.data.name}.prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "30s", "evaluation_interval": self.interval},
            "rule_files": [str(p) for p in self.rule_files]}))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.data}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=60d",
                 # no compaction of the backfilled 2h blocks while we measure
                 "--storage.tsdb.max-block-duration=2h", "--log.level=warn"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited ({self.proc.returncode}): {self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready after {timeout}s: {self._log_tail()}")

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""

    def get(self, path: str, **params) -> dict | str:
        url = f"{self.url}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        with urllib.request.urlopen(url, timeout=120) as r:
            body = r.read().decode()
        return json.loads(body)["data"] if path.startswith("/api/") else body

    def group_durations(self) -> dict[str, float]:
        text = self.get("/metrics")
        out = {}
        for line in text.splitlines():
            if line.startswith("prometheus_rule_group_last_duration_seconds{"):
                labels, value = line.rsplit(" ", 1)
                out[labels] = float(value)
        return out

    def last_evaluations(self) -> list[str]:
        return sorted(g.get("lastEvaluation", "") for g in self.get("/api/v1/rules")["groups"])

    def wait_cycles(self, cycles: int, every: float, timeout: float) -> list[dict[str, float]]:
        """Group durations after each of `cycles` new evaluation rounds."""
        seen, samples = None, []
        deadline = time.monotonic() + timeout
        while len(samples) < cycles and time.monotonic() < deadline:
            time.sleep(every / 2)
            stamps = self.last_evaluations()
            if stamps != seen and all(s and not s.startswith("0001") for s in stamps):
                seen = stamps
                samples.append(self.group_durations())
        if len(samples) < cycles:
            raise RuntimeError(f"only {len(samples)} of {cycles} evaluation cycles within {timeout}s")
        return samples

    def samples_read(self, expr: str) -> int:
        stats = self.get("/api/v1/query", query=expr, stats="all").get("stats", {})
        return int(stats.get("samples", {}).get("totalQueryableSamples", 0))


# --- the measurement ----------------------------------------------------------------

def _write_rules(docs: dict[str, dict], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (name, doc) in enumerate(sorted(docs.items())):
        path = folder / f"{i:04d}-{Path(name).name}"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        paths.append(path)
    return paths


def _group_name(labels: str) -> str:
    return re.search(r'rule_group="[^"]*;([^"]*)"', labels).group(1)


def _measure(prom: Prometheus, docs: dict[str, dict], cycles: int, every: float,
             intervals: dict[str, Duration]) -> dict:
    """Costs per cycle (every group once) and per minute of production (each group at its own interval)."""
    rounds = prom.wait_cycles(cycles + 2, every, timeout=every * (cycles + 2) * 4 + 120)[2:]
    per_group = {_group_name(g): statistics.median(r.get(g, 0.0) for r in rounds) for g in rounds[-1]}
    per_minute = {g: 60 / intervals[g].seconds for g in per_group}
    rules = [(g["name"], r) for d in docs.values() for g in d["groups"] for r in g["rules"]]
    names = sorted({r["record"] for _, r in rules if "record" in r})
    series = {}
    if names:
        pattern = "|".join(re.escape(n) for n in names)
        for row in prom.get("/api/v1/query", query=f'count by (__name__) ({{__name__=~"{pattern}"}})')["result"]:
            series[row["metric"]["__name__"]] = int(row["value"][1])
    samples = [(g, prom.samples_read(str(r["expr"]))) for g, r in rules]
    by_rule: dict[str, float] = {}
    for (g, r), (_, n) in zip(rules, samples):
        name = r.get("record") or "alert " + r["alert"].removeprefix(_alert_prefix(r))
        by_rule[name] = by_rule.get(name, 0) + n * per_minute[g]
    return {
        "groups": len(per_group),
        "rules": len(rules),
        "recording_rules": sum(1 for _, r in rules if "record" in r),
        "eval_seconds_per_cycle": round(sum(per_group.values()), 4),
        "eval_seconds_per_minute": round(sum(d * per_minute[g] for g, d in per_group.items()), 4),
        "slowest_group_seconds": round(max(per_group.values(), default=0.0), 4),
        "samples_read_per_cycle": sum(n for _, n in samples),
        "samples_read_per_minute": round(sum(n * per_minute[g] for g, n in samples)),
        "samples_read_per_minute_by_rule": {k: round(v) for k, v in sorted(by_rule.items(), key=lambda kv: -kv[1])},
        "recorded_series": sum(series.values()),
        "recorded_series_by_name": dict(sorted(series.items())),
    }


def _alert_prefix(rule: dict) -> str:
    """`CoordinatorApiAvailability` of `CoordinatorApiAvailabilityErrorBudgetBurn`: alerts grouped by kind."""
    name = rule["alert"]
    for suffix in ("ErrorBudgetBurn", "ObjectiveBreached"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return ""


def _recorded_now(prom: Prometheus, names: list[str]) -> list[tuple[str, tuple, str]]:
    out = []
    for name in names:
        for row in prom.get("/api/v1/query", query=f'{{__name__="{name}"}}')["result"]:
            labels = tuple(sorted((k, v) for k, v in row["metric"].items() if k != "__name__"))
            out.append((name, labels, row["value"][1]))
    return out


def evaluation_cost(n: int, workdir: Path, history: str = "30d", interval: str = "10s",
                    cycles: int = 5, log=print) -> dict:
    """Evaluate the generated SLO rules and their naive form for `n` services; return the figures."""
    work = Path(tempfile.mkdtemp(prefix="evalcost-", dir=workdir))
    try:
        return _evaluation_cost(n, work, Duration.parse(history), interval, cycles, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _evaluation_cost(n: int, work: Path, history: Duration, interval: str, cycles: int, log) -> dict:
    started = time.monotonic()
    spec = write_spec(n, work / "spec", HERE.parent / "spec" / "aitbc.yaml")
    compiled = compile_spec(spec)
    model = compiled.model
    docs = {f.path: yaml.safe_load(f.content) for f in compiled.files
            if f.path.startswith("prometheus/rules/") and f.path.endswith((".yml", ".yaml"))}
    generated, record_intervals, gen_intervals = slo_subset(docs, interval)
    if not generated:
        raise RuntimeError("the generated rule files hold no SLO rule (is the prometheus target written?)")
    naive = {"naive.rules.yml": naive_groups(model, interval)}
    every = Duration.parse(interval).seconds
    scrape = model.organization.scrape_interval
    slos = len(model.slos)

    end_ms = int(time.time() * 1000) - 1000
    start_ms = end_ms - history.ms
    raw = raw_series(model)
    log(f"eval cost: {n} services, {slos} SLOs, {len(raw)} raw series, {history} of history every {scrape}")
    raw_dir = work / "raw"
    import_chunks(write_chunks(raw, start_ms, end_ms, scrape.ms, work / "om-raw"), raw_dir)
    gen_dir, naive_dir = work / "tsdb-generated", work / "tsdb-naive"
    shutil.copytree(raw_dir, gen_dir)
    shutil.move(raw_dir, naive_dir)
    gen_files = _write_rules(generated, work / "rules-generated")
    naive_files = _write_rules(naive, work / "rules-naive")

    # 1. find the series the generated recording rules create, 2. backfill their history
    names = sorted(record_intervals)
    with Prometheus(gen_dir, gen_files, interval, work / "prometheus.log") as prom:
        prom.wait_cycles(3, every, timeout=every * 3 * 4 + 120)
        recorded = _recorded_now(prom, names)
    by_step: dict[int, dict] = {}
    for name, labels, value in recorded:
        by_step.setdefault(record_intervals[name].ms, {})[(name, labels)] = value
    for step, series in by_step.items():
        files = write_chunks(series, start_ms, end_ms, step, work / f"om-rec-{step}",
                             value=lambda name, labels, v, t: v)
        import_chunks(files, gen_dir)
    log(f"eval cost: backfilled {len(recorded)} recorded series; measuring {cycles} cycles per form")

    result = {"services": n, "slos": slos, "raw_series": len(raw), "history": str(history),
              "scrape_interval": str(scrape), "interval_override": interval, "cycles": cycles}
    with Prometheus(gen_dir, gen_files, interval, work / "prometheus.log") as prom:
        result["generated"] = _measure(prom, generated, cycles, every, gen_intervals)
    naive_intervals = {g["name"]: model.organization.evaluation_interval for g in naive["naive.rules.yml"]["groups"]}
    with Prometheus(naive_dir, naive_files, interval, work / "prometheus.log") as prom:
        result["naive"] = _measure(prom, naive, cycles, every, naive_intervals)
    g, v = result["generated"], result["naive"]
    g["recorded_series_per_slo"] = round(g["recorded_series"] / slos, 2) if slos else 0
    v["recorded_series_per_slo"] = round(v["recorded_series"] / slos, 2) if slos else 0
    result["time_ratio_naive_over_generated"] = round(v["eval_seconds_per_minute"] / max(g["eval_seconds_per_minute"], 1e-9), 2)
    result["samples_ratio_naive_over_generated"] = round(v["samples_read_per_minute"] / max(g["samples_read_per_minute"], 1), 2)
    result["cheaper"] = "generated" if g["samples_read_per_minute"] <= v["samples_read_per_minute"] else "naive"
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    return result


def report(r: dict) -> str:
    rows = [("", "generated", "naive")]
    for key, label in [("groups", "rule groups"), ("rules", "rules"), ("recording_rules", "recording rules"),
                       ("eval_seconds_per_cycle", "eval s / cycle (sum of groups)"),
                       ("eval_seconds_per_minute", "eval s / minute in production"),
                       ("samples_read_per_cycle", "samples read / cycle"),
                       ("samples_read_per_minute", "samples read / minute in production"),
                       ("recorded_series", "recorded series"), ("recorded_series_per_slo", "recorded series / SLO")]:
        rows.append((label, str(r["generated"][key]), str(r["naive"][key])))
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"Rule evaluation cost: {r['services']} services, {r['slos']} SLOs, {r['raw_series']} raw series, "
             f"{r['history']} of history (interval shortened to {r['interval_override']})"]
    lines += ["  " + "  ".join(c.ljust(width[i]) if i == 0 else c.rjust(width[i]) for i, c in enumerate(row))
              for row in rows]
    lines.append(f"  naive / generated per minute in production: time x{r['time_ratio_naive_over_generated']}, "
                 f"samples x{r['samples_ratio_naive_over_generated']}; cheaper: {r['cheaper']}")
    for form in ("generated", "naive"):
        top = list(r[form]["samples_read_per_minute_by_rule"].items())[:6]
        lines.append(f"  {form}: most samples read per minute: " + ", ".join(f"{k} {v:.3g}" for k, v in top))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description="Rule evaluation cost: generated SLO rules vs the naive form")
    ap.add_argument("--services", type=int, default=5)
    ap.add_argument("--history", default="30d")
    ap.add_argument("--interval", default="10s")
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="montool-evalcost-") as tmp:
        result = evaluation_cost(args.services, Path(tmp), args.history, args.interval, args.cycles)
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
