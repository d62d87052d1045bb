"""Start the real Prometheus and Alertmanager on 127.0.0.1 and stop them by PID.

Every process is registered with a `Processes` group when it starts; `stop_all()`
terminates each by its own PID (SIGTERM, then SIGKILL after a grace period),
whatever happened in between. Logs go to files in the run's temporary folder and
are shown when a server does not become ready.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from generators.alertmanager.server import ready

PROMETHEUS = ("prometheus",)
ALERTMANAGER = ("prometheus-alertmanager", "alertmanager")
PR_SET_PDEATHSIG = 1


def binary(names: tuple[str, ...]) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError(
        f"none of {', '.join(names)} is on PATH: install the Debian packages with "
        "`apt-get install --no-install-recommends prometheus prometheus-alertmanager` (make setup does)")


def _die_with_parent() -> None:
    """In the child: SIGTERM when the test process dies, even by SIGKILL (Linux prctl)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Processes:
    """The servers of one test run."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.procs: list[tuple[str, subprocess.Popen, Path]] = []
        self.pending: list[tuple[str, subprocess.Popen, Path, str]] = []

    def spawn(self, name: str, argv: list[str], ready_url: str) -> subprocess.Popen:
        """Start a server; `wait_ready` waits for every spawned one."""
        log = self.workdir / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=self.workdir, preexec_fn=_die_with_parent)
        self.procs.append((name, proc, log))
        self.pending.append((name, proc, log, ready_url))
        return proc

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.pending:
            name, proc, log, url = self.pending[0]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            if ready(url):
                self.pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {timeout}s:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)

    def _server(self, name: str, names: tuple[str, ...], port: int, flags: list[str]) -> subprocess.Popen:
        argv = [binary(names), *flags, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
        return self.spawn(name, argv, f"http://127.0.0.1:{port}/-/ready")

    def prometheus(self, name: str, config: Path, port: int) -> subprocess.Popen:
        """Prometheus re-sends firing alerts every second (default: a minute)."""
        return self._server(name, PROMETHEUS, port, [
            f"--config.file={config}", f"--storage.tsdb.path={self.workdir / (name + '-data')}",
            "--rules.alert.resend-delay=1s"])

    def alertmanager(self, name: str, config: Path, port: int) -> subprocess.Popen:
        """A single Alertmanager, no cluster (no gossip port)."""
        return self._server(name, ALERTMANAGER, port, [
            f"--config.file={config}", f"--storage.path={self.workdir / (name + '-data')}",
            "--cluster.listen-address="])

    def logs(self) -> str:
        return "\n".join(f"--- {name} (pid {p.pid}) ---\n{log.read_text()[-2000:]}"
                         for name, p, log in self.procs if log.exists())

    def stop_all(self, grace: float = 5.0) -> None:
        """Stop every started process by its PID: SIGTERM, then SIGKILL."""
        for _, proc, _ in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for _, proc, _ in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.procs.clear()
