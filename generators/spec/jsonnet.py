"""Jsonnet specs: evaluation with ext/tla variables, imports confined to the spec's folder,
and evaluation errors turned into problems at the place the message names."""

from __future__ import annotations

import re
from pathlib import Path

from .load import display_name
from .problems import Problem

_POSITION = re.compile(
    r"(?P<file>[^\s:()]+\.(?:jsonnet|libsonnet)):\(?(?P<line>\d+):(?P<col>\d+)(?:-\d+(?::\d+)?)?\)?")


def evaluate(path: Path, root: Path, ext_vars: dict, tla_vars: dict, name: str) -> tuple[str | None, Problem | None]:
    """(the JSON text, None), or (None, the problem) when evaluation fails."""
    import _jsonnet

    jail = root.resolve()

    def import_callback(folder: str, rel: str):
        target = (Path(folder) / rel).resolve()
        if not target.is_relative_to(jail):
            raise RuntimeError(f"import {rel!r} is outside the spec folder {display_name(jail)}")
        if not target.is_file():
            raise RuntimeError(f"import {rel!r} not found")
        return str(target), target.read_bytes()

    try:
        return _jsonnet.evaluate_file(
            str(path.resolve()), ext_vars=dict(ext_vars), tla_vars=dict(tla_vars), import_callback=import_callback
        ), None
    except RuntimeError as exc:
        return None, problem(str(exc), name)


def problem(text: str, name: str) -> Problem:
    """Turn a Jsonnet error message into a problem at the place it names."""
    first = text.strip().splitlines()[0] if text.strip() else "Jsonnet evaluation failed"
    message = re.sub(r"^(RUNTIME|STATIC) ERROR: ", "", first)
    file, line, column = name, 1, 1
    match = _POSITION.search(text)
    if match:
        file = display_name(Path(match["file"]))
        line, column = int(match["line"]), int(match["col"])
        message = message.replace(match.group(0), "").lstrip(": ") or message
    rule = "load/jsonnet-import" if "couldn't open import" in message else "load/jsonnet"
    return Problem(file, line, column, "", message, rule)
