"""One end-to-end set-up: the generated files, the exporter, the recorder, Prometheus and Alertmanagers.

Everything listens on 127.0.0.1 on free ports and lives in one temporary folder.
A *pipeline* is one Alertmanager (with its own configuration variant) and the
Prometheus that feeds it; Prometheus sends every alert to all Alertmanagers of its
pipelines at once, so the variants (the real configuration, the maintenance
override, the deliberately broken ones) see exactly the same alerts at the same time,
and one run serves every scenario. The recorder tells the pipelines apart by path.

Prometheus loads the generated rule files byte for byte (a broken-rule variant
loads a copy with one expression changed); its own configuration is the harness's:
SCRAPE_INTERVAL scrapes of the exporter's targets, one job per `job` the spec's
selectors name, so the generated rules' `job` matchers select them.
"""
from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from generators.alertmanager.server import free_port, http_json

from . import amconfig, rules
from .exporter import Exporter
from .processes import Processes
from .recorder import Recorder

SCRAPE_INTERVAL = 1.0      # seconds; rate windows of minutes see hundreds of samples
RULES_FALLBACK_INTERVAL = 1.0   # for rule groups that set no interval of their own


@dataclass
class Pipeline:
    name: str
    prometheus: str
    transform: Callable[[dict], dict]      # applied after substitution and the timing override
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class PrometheusVariant:
    name: str
    rule_transform: Callable[[Path, Path], None] | None = None    # (generated file, copy) per file
    port: int = 0
    rules_dir: Path | None = None


@dataclass
class Stack:
    compiled: object               # generators.compiler.Compiled
    workdir: Path
    prometheus_variants: list[PrometheusVariant]
    pipelines: list[Pipeline]
    procs: Processes = field(init=False)
    started_at: float = 0.0

    def __post_init__(self):
        self.procs = Processes(self.workdir)
        self.recorder = Recorder()
        self.model = self.compiled.model
        self.out = self.workdir / "out"
        for f in self.compiled.files:
            path = self.out / f.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f.content, encoding="utf-8")
        self.rules = rules.alert_rules(self.out, RULES_FALLBACK_INTERVAL)
        self.exporter = Exporter(self.model)

    # --- start and stop ------------------------------------------------------------

    def start(self) -> None:
        """Start everything; on any failure whatever did start is stopped again."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.recorder.start()
        exporter_addr = self.exporter.start()
        base = yaml.safe_load((self.out / "alertmanager" / "alertmanager.yml").read_text())
        for p in self.pipelines:
            p.port = free_port()
            self._write_alertmanager(p, base)
        for v in self.prometheus_variants:
            v.port = free_port()
            self._write_prometheus(v, exporter_addr)
        for p in self.pipelines:
            self.procs.alertmanager(f"alertmanager-{p.name}", self.workdir / p.name / "alertmanager.yml", p.port)
        for v in self.prometheus_variants:
            self.procs.prometheus(f"prometheus-{v.name}", self.workdir / f"prometheus-{v.name}.yml", v.port)
        self.procs.wait_ready()
        for v in self.prometheus_variants:
            self._wait_scraped(v)
        self.started_at = time.monotonic()

    def _wait_scraped(self, v: PrometheusVariant, timeout: float = 20.0) -> None:
        """Until every target has been scraped once (Prometheus applies new targets up to
        5 s after it starts); the scenarios' clocks start after that."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{v.port}/api/v1/targets?state=active"
        while True:
            targets = http_json(url)["data"]["activeTargets"]
            if len(targets) == len(self.exporter.jobs) and all(t["health"] != "unknown" for t in targets):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"prometheus-{v.name}: targets not scraped after {timeout}s: {targets}")
            time.sleep(0.1)

    def stop(self) -> None:
        try:
            self.procs.stop_all()
        finally:
            self.exporter.stop()
            self.recorder.stop()

    def _write_alertmanager(self, p: Pipeline, base: dict) -> None:
        folder = self.workdir / p.name
        shutil.copytree(self.out / "alertmanager" / "templates", folder / "templates")
        cfg = amconfig.substitute(
            base, self.model, secrets=folder / "secrets",
            endpoint=lambda kind, name="": self.recorder.url(p.name, kind, name),
            smtp=f"127.0.0.1:{free_port()}")      # nothing listens there: email fails fast, locally
        cfg = p.transform(amconfig.shorten_group_timings(cfg))
        (folder / "alertmanager.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))

    def _write_prometheus(self, v: PrometheusVariant, exporter_addr: str) -> None:
        v.rules_dir = self.workdir / f"rules-{v.name}"
        v.rules_dir.mkdir()
        for src in rules.rule_files(self.out):
            if v.rule_transform is None:
                shutil.copyfile(src, v.rules_dir / src.name)
            else:
                v.rule_transform(src, v.rules_dir / src.name)
        targets = [f"127.0.0.1:{p.port}" for p in self.pipelines if p.prometheus == v.name]
        cfg = {
            "global": {"scrape_interval": f"{int(SCRAPE_INTERVAL * 1000)}ms",
                       "scrape_timeout": f"{int(SCRAPE_INTERVAL * 800)}ms",
                       "evaluation_interval": f"{int(RULES_FALLBACK_INTERVAL * 1000)}ms"},
            "rule_files": [str(v.rules_dir / rules.FILE_GLOB)],
            "alerting": {"alertmanagers": [{"api_version": "v2", "static_configs": [{"targets": targets}]}]},
            "scrape_configs": [
                {"job_name": job, "metrics_path": f"/metrics/{job}",
                 "static_configs": [{"targets": [exporter_addr]}]}
                for job in self.exporter.jobs],
        }
        (self.workdir / f"prometheus-{v.name}.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))

    # --- talking to the servers ----------------------------------------------------

    def pipeline(self, name: str) -> Pipeline:
        return next(p for p in self.pipelines if p.name == name)

    def inject(self, alerts: list[dict], resolve: bool = False) -> None:
        """Post alerts to every Alertmanager (as Prometheus would); `resolve` ends them now."""
        stamp = dt.datetime.now(dt.timezone.utc).isoformat()
        body = [{**a, "startsAt": a.get("startsAt", stamp), "generatorURL": "http://127.0.0.1/e2e-injected",
                 **({"endsAt": stamp} if resolve else {})} for a in alerts]
        for p in self.pipelines:
            http_json(f"{p.url}/api/v2/alerts", body)

    def active_alerts(self, pipeline: str, alertname: str) -> list[dict]:
        """Alerts Alertmanager holds as active or suppressed (not resolved) under `alertname`."""
        url = f"{self.pipeline(pipeline).url}/api/v2/alerts?filter=alertname%3D%22{alertname}%22"
        return [a for a in http_json(url) or [] if a.get("status", {}).get("state") in ("active", "suppressed")]
