"""The output targets: one generator (and optional validator) per kind of output.

Placeholder created by the pipeline infrastructure so the compiler can run; the
lead owns this module and fills TARGETS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .emit import OutputFile
from .spec.problems import Problem


@dataclass(frozen=True)
class Target:
    name: str
    generate: Callable[[Any], list[OutputFile]]
    validate: Callable[[Path, Any], list[Problem]] | None = None


TARGETS: list[Target] = []
