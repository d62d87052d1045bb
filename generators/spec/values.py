"""Typed values of the spec language: durations, percentages, thresholds, PromQL selectors.

Each is parsed once, when the model is built; generators only see the typed value.
A value that does not parse raises ValueError with a message fit for a Problem.
"""
from __future__ import annotations

import functools

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
            "w": 604_800_000, "y": 31_536_000_000}


@dataclass(frozen=True, order=True)
class Duration:
    """A whole number of milliseconds, printed the way Prometheus writes durations."""

    ms: int

    @classmethod
    def parse(cls, text) -> "Duration":
        if not isinstance(text, str) or not text:
            raise ValueError(f"{text!r} is not a duration (use e.g. 30s, 5m, 1h, 30d)")
        pos, total, last = 0, 0, None
        for m in _DURATION_PART.finditer(text):
            if m.start() != pos:
                break
            unit_rank = list(_UNIT_MS).index(m.group(2))
            if last is not None and unit_rank >= last:
                break
            total += int(m.group(1)) * _UNIT_MS[m.group(2)]
            pos, last = m.end(), unit_rank
        if pos != len(text) or pos == 0:
            raise ValueError(f"{text!r} is not a duration (use e.g. 30s, 5m, 1h, 30d)")
        return cls(total)

    @classmethod
    def of(cls, seconds: float) -> "Duration":
        return cls(int(round(seconds * 1000)))

    @property
    def seconds(self) -> float:
        return self.ms / 1000

    def __str__(self) -> str:
        return _duration_text(self.ms)

    def __mul__(self, k) -> "Duration":
        return Duration(int(round(self.ms * k)))

    def __truediv__(self, other):
        if isinstance(other, Duration):
            return self.ms / other.ms
        return Duration(int(round(self.ms / other)))


@functools.lru_cache(maxsize=4096)
def _duration_text(ms: int) -> str:
    """Prometheus duration text; cached (a few distinct values, printed millions of times at scale)."""
    if ms == 0:
        return "0s"
    out, rest = [], ms
    for unit in ("w", "d", "h", "m", "s", "ms"):
        if unit == "w" and rest % _UNIT_MS["w"]:
            continue  # 10d stays 10d rather than 1w3d
        n, rest = divmod(rest, _UNIT_MS[unit])
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


def decimal(value) -> Decimal:
    """A number from the spec as an exact Decimal (YAML floats go through their text)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    try:
        return Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


def percent(value) -> Decimal:
    """`99.9`, `"99.9%"` -> Decimal('0.999')."""
    text = str(value).strip()
    if text.endswith("%"):
        text = text[:-1]
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a percentage") from None
    return d / 100


def threshold(value, unit: str) -> Decimal:
    """A threshold in the unit of its signal, as a Decimal in PromQL's terms.

    ratio: "10%" or 0.1; seconds: "500ms" or a number of seconds; others: a number.
    """
    from .kinds import RATIO, SECONDS

    if unit == RATIO:
        if isinstance(value, str):
            if not value.strip().endswith("%"):
                raise ValueError(f"{value!r}: a ratio is written as a percentage such as '5%' or a number")
            return percent(value)
        return decimal(value)
    if unit == SECONDS:
        if isinstance(value, str):
            return Decimal(Duration.parse(value).ms) / 1000
        return decimal(value)
    if isinstance(value, str):
        raise ValueError(f"{value!r} is not a number")
    return decimal(value)


# --- PromQL selectors -------------------------------------------------------------

_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def parse_matchers(text: str) -> tuple[tuple[str, str, str], ...]:
    """`job="x",code=~"5.."` -> (("job","=","x"), ("code","=~","5.."))."""
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _MATCHER.match(text, pos)
        if not m:
            raise ValueError(f"cannot parse label matchers {text!r}")
        out.append((m.group(1), m.group(2), m.group(3)))
        pos = m.end()
    return tuple(out)


def render_matchers(matchers) -> str:
    return ",".join(f'{k}{op}"{v}"' for k, op, v in matchers)


@dataclass(frozen=True)
class Metric:
    """A metric name and the label matchers that select the service's series."""

    name: str
    matchers: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def parse(cls, text: str, default_matchers) -> "Metric":
        """`name` (the service's selector applies) or `name{matchers}` (these replace it)."""
        text = text.strip()
        m = _METRIC_NAME.match(text)
        if not m:
            raise ValueError(f"{text!r} is not a metric name")
        rest = text[m.end():].strip()
        if not rest:
            return cls(m.group(0), tuple(default_matchers))
        if not (rest.startswith("{") and rest.endswith("}")):
            raise ValueError(f"{text!r} is not a metric name with optional {{matchers}}")
        return cls(m.group(0), parse_matchers(rest[1:-1]))

    def selector(self, extra: str = "", suffix: str = "") -> str:
        inner = ",".join(x for x in (render_matchers(self.matchers), extra) if x)
        return f"{self.name}{suffix}{{{inner}}}" if inner else f"{self.name}{suffix}"
