"""How the real Alertmanager routes label sets: one server, every case at once.

`amtool config routes test` parses the whole configuration again for every label
set: thousands of processes, each reading thousands of receivers, at a thousand
services. Instead the `alertmanager` binary is started once on 127.0.0.1 (a free
port, no cluster, a temporary storage folder), every label set is POSTed as an
alert to `/api/v2/alerts` in one request, and `GET /api/v2/alerts` gives each
alert's `receivers`. The API computes them with the same call as amtool
(`dispatch.Route.Match` on the configuration's routing tree, receivers in the
depth-first order of the matching routes), so the proof is the same, from the same
Alertmanager code.

The server runs the staged `route` and `time_intervals` with a bare receiver (a
name, no integration) for each name the routes use. Routing reads nothing else, so
this changes no routing result, and only those two blocks of the file are parsed. It keeps the server from
sending anything (the Watchdog route has no group wait: with the real receivers it
would call the dead man's switch at once, and email would reach the real SMTP
relay), and without `inhibit_rules` the API does not check every alert against
every other one for inhibition, which is quadratic (5 s for 4000 alerts).
`amtool check-config` proves the complete file separately.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from .. import tools

READY_TIMEOUT = 30.0


class ServerError(Exception):
    """The Alertmanager did not start or did not answer; the message says why."""


ROUTING_KEYS = ("route", "time_intervals", "mute_time_intervals")


def _receivers_of(route) -> list[str]:
    """Every receiver name the routing tree refers to, in first-use order."""
    out, todo = [], [route]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if isinstance(node.get("receiver"), str) and node["receiver"] not in out:
                out.append(node["receiver"])
            todo.extend(reversed(node.get("routes") or []))
    return out


def routing_config(cfg: dict) -> dict:
    """The configuration the server runs: the routing tree and time intervals as staged,
    and a receiver without integrations for each name the tree uses (amtool check-config
    has proved that each is defined; receivers no route names cannot change routing)."""
    out = {k: cfg[k] for k in ROUTING_KEYS if k in cfg}
    out["receivers"] = [{"name": name} for name in _receivers_of(cfg.get("route"))]
    return out


def _key(labels: dict) -> frozenset:
    """A label set as the API keeps it: the server drops labels with an empty value."""
    return frozenset((k, v) for k, v in labels.items() if v != "")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(url: str) -> bool:
    """Whether a server answers `url` (its readiness endpoint) with 200 OK."""
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def http_json(url: str, body=None, timeout: float = 30.0):
    """GET `url` (POST `body` as JSON if given); the JSON answer, or None if empty."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return json.loads(raw) if raw.strip() else None


class Alertmanager:
    """`with Alertmanager(cfg) as am: am.receivers(label_sets)`; started in __init__ (so the
    caller can do other work while it comes up) and stopped by its PID on exit."""

    def __init__(self, cfg: dict):
        self._tmp = tempfile.TemporaryDirectory(prefix="montool-am-")
        folder = Path(self._tmp.name)
        config = folder / "alertmanager.yml"
        # JSON is YAML; json.dumps is much faster than a YAML emitter at this size.
        config.write_text(json.dumps(routing_config(cfg), ensure_ascii=False), encoding="utf-8")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = folder / "alertmanager.log"
        argv = [tools.tool_path("alertmanager"), f"--config.file={config}", f"--storage.path={folder / 'data'}",
                "--cluster.listen-address=", f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        with open(self._log, "wb") as log:
            self._proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          cwd=folder)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def log(self) -> str:
        text = self._log.read_text(encoding="utf-8", errors="replace") if self._log.exists() else ""
        return " | ".join(ln for ln in text.splitlines()[-5:] if ln.strip())

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise ServerError(f"alertmanager exited with status {self._proc.returncode}: {self.log()}")
            if ready(self.url + "/-/ready"):
                return
            if time.monotonic() > deadline:
                raise ServerError(f"alertmanager not ready after {timeout:.0f} s: {self.log()}")
            time.sleep(0.02)

    def receivers(self, label_sets: list[dict]) -> list[list[str] | None]:
        """The receivers of each label set, in routing order (None: the server lost it)."""
        self.wait_ready()
        try:
            http_json(self.url + "/api/v2/alerts", [{"labels": labels} for labels in label_sets])
            alerts = http_json(self.url + "/api/v2/alerts") or []
        except (OSError, urllib.error.URLError, ValueError) as exc:
            raise ServerError(f"alertmanager API: {exc}: {self.log()}") from exc
        got = {_key(a["labels"]): [r["name"] for r in a.get("receivers") or []] for a in alerts}
        return [got.get(_key(labels)) for labels in label_sets]

    def stop(self) -> None:
        if self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=5)
        self._tmp.cleanup()
