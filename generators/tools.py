"""Finding and running the external tools: promtool, amtool, prometheus, alertmanager.

A tool is looked up in an environment variable first (``MONTOOL_PROMTOOL``,
``MONTOOL_AMTOOL``, ``MONTOOL_PROMETHEUS``, ``MONTOOL_ALERTMANAGER``), then on PATH.
Debian installs Alertmanager as ``prometheus-alertmanager``; either name is found.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

INSTALL_HINT = (
    "install it as root with `apt-get update && apt-get install --no-install-recommends "
    "prometheus prometheus-alertmanager`, or put the binary on PATH"
)

# Tool name -> the executable names it may have on PATH.
TOOLS: dict[str, tuple[str, ...]] = {
    "promtool": ("promtool",),
    "amtool": ("amtool",),
    "prometheus": ("prometheus",),
    "alertmanager": ("alertmanager", "prometheus-alertmanager"),
}


class ToolMissing(Exception):
    """An external tool montool needs is not installed."""


def env_var(name: str) -> str:
    return "MONTOOL_" + name.upper().replace("-", "_")


def tool_path(name: str) -> str:
    """The path of the executable for ``name``; raise ToolMissing saying how to install it."""
    if name not in TOOLS:
        raise ValueError(f"unknown tool {name!r} (known: {', '.join(TOOLS)})")
    var = env_var(name)
    override = os.environ.get(var)
    if override:
        found = shutil.which(override)
        if found is None:
            raise ToolMissing(f"{var}={override} is not an executable file")
        return found
    for candidate in TOOLS[name]:
        found = shutil.which(candidate)
        if found:
            return found
    names = " or ".join(TOOLS[name])
    raise ToolMissing(f"{names} not found: {INSTALL_HINT} (or set {var} to its path)")


def run(args: list[str], cwd: Path | None = None, timeout: float = 120,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command, capturing text output; never raises on a non-zero exit status.

    The first argument may be a tool name (``promtool``) and is then resolved with
    ``tool_path``. ``env`` adds to (or overrides) this process's environment. A timeout
    is reported as exit status 124 with a message on stderr.
    """
    args = [str(a) for a in args]
    if args and args[0] in TOOLS:
        args[0] = tool_path(args[0])
    try:
        return subprocess.run(
            args, cwd=cwd, timeout=timeout, capture_output=True, text=True,
            encoding="utf-8", errors="replace", check=False, env={**os.environ, **env} if env else None,
        )
    except FileNotFoundError as exc:
        raise ToolMissing(f"{args[0]} not found: {INSTALL_HINT}") from exc
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return subprocess.CompletedProcess(args, 124, stdout, f"timed out after {timeout} seconds")


@cache
def _version_of(path: str) -> str:
    result = run([path, "--version"], timeout=30)
    text = (result.stdout or result.stderr).strip()
    match = re.search(r"version\s+(\S+)", text)
    return match.group(1) if match else (text.splitlines()[0] if text else "unknown")


def tool_version(name: str) -> str:
    """The version the tool reports, e.g. ``2.42.0+ds``."""
    return _version_of(tool_path(name))
