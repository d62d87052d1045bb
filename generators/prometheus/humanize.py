"""Prometheus template functions, re-done in Python for the test builder.

A generated promtool test states the exact annotations an alert carries, so the
builder expands the rule's description itself: `{{ $value | humanize }}`,
`humanizePercentage`, `humanizeDuration` (ports of Prometheus' Go functions, which
print with `%.4g`) and `{{ $labels.name }}`. Only these forms are used in
generated descriptions; anything else is an error here, not a silent mismatch.
"""
from __future__ import annotations

import math
import re

from ..spec import kinds as K

FUNCTION_BY_UNIT = {
    K.RATIO: "humanizePercentage",
    K.SECONDS: "humanizeDuration",
    K.COUNT: "humanize",
    K.PER_SECOND: "humanize",
    K.BOOL: "humanize",
}


def _g(v: float) -> str:
    return "%.4g" % v


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g(v)
    if abs(v) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return _g(v) + prefix
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return _g(v) + prefix


def humanize_percentage(v: float) -> str:
    return _g(v * 100) + "%"


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return _g(v)
    if v == 0:
        return _g(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        d = int(v)
        seconds, minutes, hours, days = d % 60, (d // 60) % 60, (d // 3600) % 24, d // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{_g(v)}{prefix}s"


FUNCTIONS = {"humanize": humanize, "humanizePercentage": humanize_percentage,
             "humanizeDuration": humanize_duration}

_ACTION = re.compile(r"\{\{\s*(.*?)\s*\}\}")


def expand(template: str, value: float, labels: dict[str, str]) -> str:
    """The text Prometheus makes of `template` for an alert with this value and labels."""

    def sub(m: re.Match) -> str:
        action = m.group(1)
        if action == "$value":
            return repr(value)
        vm = re.fullmatch(r"\$value \| (\w+)", action)
        if vm and vm.group(1) in FUNCTIONS:
            return FUNCTIONS[vm.group(1)](value)
        lm = re.fullmatch(r"\$labels\.(\w+)", action)
        if lm:
            return labels.get(lm.group(1), "")
        raise ValueError(f"template action {{{{ {action} }}}} is not supported by the test builder")

    return _ACTION.sub(sub, template)
