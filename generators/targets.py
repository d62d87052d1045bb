"""The output targets, in the order they are generated and validated.

Each target module exposes `generate(model) -> list[OutputFile]` (pure: no I/O,
clock or environment) and may expose `validate(staged_root, model) -> list[Problem]`,
which runs the real tools (promtool, amtool, JSON Schemas) on the staged tree.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .emit import OutputFile
from .spec.problems import Problem

MODULES = ("prometheus", "alertmanager", "pagerduty", "grafana", "docs")


@dataclass(frozen=True)
class Target:
    name: str
    generate: Callable[[Any], list[OutputFile]]
    validate: Callable[[Path, Any], list[Problem]] | None = None


def _target(name: str) -> Target:
    module = importlib.import_module(f"{__package__}.{name}")
    return Target(name, module.generate, getattr(module, "validate", None))


TARGETS: list[Target] = [_target(name) for name in MODULES]
