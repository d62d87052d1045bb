"""Problems: what every stage of montool reports when a spec is wrong.

A problem has a position (file, 1-based line and column), the JSON path of the
node it is about, a readable message, a stable rule id (``load/yaml``,
``schema/maximum``, ...) and a severity (``error`` or ``warning``). Problems are
always collected, sorted and printed all together, never just the first one::

    spec/aitbc.yaml:14:16: error: services.api.slos[0].objective: 100.5 is greater than the maximum of 100 (schema/maximum)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Position:
    """A place in a source file; line and column are 1-based."""

    file: str
    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    path: str
    message: str
    rule: str
    severity: str = "error"

    @classmethod
    def at(cls, pos: Position, path: str, message: str, rule: str, severity: str = "error") -> "Problem":
        return cls(pos.file, pos.line, pos.column, path, message, rule, severity)

    @property
    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.path, self.rule, self.message)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self, fmt: str = "text") -> str:
        if fmt == "text":
            where = f"{self.path}: " if self.path else ""
            return (
                f"{self.file}:{self.line}:{self.column}: {self.severity}: "
                f"{where}{self.message} ({self.rule})"
            )
        if fmt == "github":
            level = "warning" if self.severity == "warning" else "error"
            props = ",".join(
                f"{key}={_gh_property(str(value))}"
                for key, value in (
                    ("file", self.file),
                    ("line", self.line),
                    ("col", self.column),
                    ("title", self.rule),
                )
            )
            where = f"{self.path}: " if self.path else ""
            return f"::{level} {props}::{_gh_data(where + self.message)}"
        raise ValueError(f"unknown problem format {fmt!r} (expected 'text' or 'github')")

    def __str__(self) -> str:
        return self.format()


def _gh_data(text: str) -> str:
    """Escape the message part of a GitHub workflow command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    """Escape a property value of a GitHub workflow command."""
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Sorted and without exact repeats."""
    return sorted(set(problems), key=lambda p: p.sort_key)


def errors_in(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


class SpecError(Exception):
    """The spec cannot be compiled; ``.problems`` holds every problem found, sorted."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = sort_problems(problems)
        super().__init__(
            "\n".join(p.format() for p in self.problems) or "invalid spec"
        )


def json_path(parts: tuple | list) -> str:
    """Render ``("services", "api", "slos", 0)`` as ``services.api.slos[0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def summary_line(problems: Iterable[Problem]) -> str:
    """``2 errors, 1 warning`` style count line."""
    problems = list(problems)
    n_err = sum(1 for p in problems if p.is_error)
    n_warn = len(problems) - n_err

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return f"{plural(n_err, 'error')}, {plural(n_warn, 'warning')}"


def report(problems: Iterable[Problem], fmt: str = "text") -> str:
    """Every problem on its own line, sorted, then the count line."""
    problems = sort_problems(problems)
    return "".join(p.format(fmt) + "\n" for p in problems) + summary_line(problems) + "\n"
