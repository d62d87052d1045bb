"""Fake notification endpoints: PagerDuty Events API v2, Slack incoming webhooks, webhooks.

One HTTP server thread on 127.0.0.1 records every POST. Paths are
`/<pipeline>/<kind>[/<name>]`, kind one of `pagerduty`, `slack`, `webhook`, so one
recorder serves every Alertmanager of the test run and each recording says which
Alertmanager sent it. PagerDuty gets `202 {"status": "success", ...}` as the real
Events API answers; Slack gets `200 ok`.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Record:
    at: float              # time.monotonic() when received
    pipeline: str
    kind: str              # pagerduty | slack | webhook
    name: str              # webhook receiver name ('' otherwise)
    body: dict

    @property
    def text(self) -> str:
        return json.dumps(self.body, sort_keys=True)

    def mentions(self, alertname: str) -> bool:
        """Whether this notification is about `alertname`: webhooks list their alerts; the
        PagerDuty and Slack payloads carry the name where the generated templates put it."""
        if self.kind == "webhook":
            return any(a.get("labels", {}).get("alertname") == alertname for a in self.body.get("alerts", []))
        return re.search(rf"\b{re.escape(alertname)}\b", self.text) is not None


def mentioning(records: list[Record], alertname: str) -> list[Record]:
    return [r for r in records if r.mentions(alertname)]


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.records: list[Record] = []
        self.server: ThreadingHTTPServer | None = None
        self.base = ""

    def url(self, pipeline: str, kind: str, name: str = "") -> str:
        return f"{self.base}/{pipeline}/{kind}" + (f"/{name}" if name else "")

    def select(self, pipeline: str, kind: str | None = None, since: float = 0.0) -> list[Record]:
        with self.lock:
            return [r for r in self.records
                    if r.pipeline == pipeline and (kind is None or r.kind == kind) and r.at >= since]

    def summary(self, since: float = 0.0) -> str:
        """One line per recording (seconds since `since`), for failure reports."""
        with self.lock:
            records = list(self.records)
        return "\n".join(f"{r.at - since:7.1f}s {r.pipeline:20} {r.kind:9} {r.name:16} "
                         f"{r.body.get('event_action', '')} {r.text[:160]}" for r in records)

    def wait(self, predicate, deadline: float, step: float = 0.25):
        """Poll `predicate()` until it returns something truthy or `deadline` (monotonic) passes."""
        while True:
            found = predicate()
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(step)

    def start(self) -> str:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                parts = self.path.strip("/").split("/")
                pipeline, kind = (parts + ["", ""])[:2]
                name = "/".join(parts[2:])
                with recorder.lock:
                    recorder.records.append(Record(time.monotonic(), pipeline, kind, name, body))
                if kind == "pagerduty":
                    data = json.dumps({"status": "success", "message": "Event processed",
                                       "dedup_key": body.get("dedup_key", "")}).encode()
                    code = 202
                else:
                    data, code = b"ok", 200
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="e2e-recorder", daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self.base

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
