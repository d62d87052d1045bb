"""Panels and dashboards as JSON text templates: built with the SDK once per shape,
then filled with each use's strings.

Building a panel through grafana-foundation-sdk, encoding it, decoding it and
writing it again as indented JSON cost about a millisecond per panel; a spec of a
thousand services has tens of thousands of panels. So a panel (or a dashboard's
frame) is described by its *shape* (everything but its free strings: panel type,
unit, sizes, thresholds, number and kind of queries and links, which strings are
empty) and its *strings* (title, description, queries, legends, link titles and
URLs). The SDK builds each shape once, with unique sentinel strings in place of the
strings; the JSON text of that build is the shape's template, and a use fills the
sentinels with its own strings, JSON-encoded.

Why the filled text is the text the SDK path writes, byte for byte:
- the SDK stores these strings as given (it never reads their content), so building
  with the real strings gives the sentinel build with each sentinel replaced by its
  string; whether a string is empty is part of the shape, for builders that test it;
- `emit.json_text` writes a string the same way wherever it stands (one shared JSON
  encoder), and sorts keys, which a value does not move; so replacing the sentinel's
  encoded form by the real string's encoded form is replacing the value;
- `json_text` is compositional: a value nested at indent `i` is its top-level text
  with every line break followed by `i` (JSON strings carry no raw line break), which
  is how a panel's text is put into the dashboard's `panels` list.
The golden tests (AITBC and the minimal case, byte-identical before and after this
module) and tests/test_grafana_template.py check it.
"""
from __future__ import annotations

import json
import re
from json.encoder import encode_basestring
from dataclasses import dataclass, field
from typing import Callable

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from ..emit import json_text

PANEL_INDENT = "    "  # a panel's lines inside the dashboard's top-level `panels` list
_SLOT = re.compile(r'"\\u0000(\w+)\\u0000"')
_encode = json.JSONEncoder(ensure_ascii=False).encode  # the encoder emit.json_text writes strings with
_MAX_TEMPLATES = 10_000


def slot(name) -> str:
    """The sentinel string for slot `name`: a NUL never occurs in montool's strings."""
    return f"\x00{name}\x00"


class Template:
    """JSON text split at its slots: literal, slot name, literal, ..."""

    def __init__(self, text: str):
        parts = _SLOT.split(text)
        self.literals = parts[0::2]
        self.names = parts[1::2]

    def fill(self, values: dict[str, str]) -> str:
        """The text with each slot replaced by its value (JSON text, already encoded)."""
        out = [self.literals[0]]
        for name, literal in zip(self.names, self.literals[1:]):
            out.append(values[name])
            out.append(literal)
        return "".join(out)


def encode(value) -> str:
    return _encode(value)


def sdk_json(built) -> dict:
    """The JSON model of an SDK object (what the dashboard's encoder writes for it)."""
    return json.loads(json.dumps(built, cls=JSONEncoder))


_NAMES = [str(i) for i in range(256)]


def string_values(strings) -> dict[str, str]:
    """Slot name -> JSON text of each string (`_encode` of a str is this C function's result)."""
    if len(strings) > len(_NAMES):
        _NAMES.extend(str(i) for i in range(len(_NAMES), len(strings)))
    return dict(zip(_NAMES, map(encode_basestring, strings)))


def shape_of(kind: str, strings: tuple[str, ...], *rest) -> tuple:
    """A template key: `kind`, the shape parameters, the number of strings and which are empty."""
    return (kind, len(strings), tuple(i for i, s in enumerate(strings) if not s), *rest)


@dataclass(frozen=True, eq=False)
class Panel:
    """A panel (or row) to place on a dashboard: its shape, its strings, and how to build
    it with the SDK from an iterator over strings (called once per shape)."""

    type: str
    key: tuple
    strings: tuple[str, ...]
    make: Callable = field(repr=False)
    width: int = 24
    height: int = 1
    queries: tuple = ()


_templates: dict[tuple, Template] = {}


def cached(key: tuple, build: Callable[[], str]) -> Template:
    t = _templates.get(key)
    if t is None:
        if len(_templates) >= _MAX_TEMPLATES:
            _templates.clear()
        t = _templates[key] = Template(build())
    return t


def _panel_text(p: Panel) -> str:
    built = p.make(iter([slot(i) for i in range(len(p.strings))])).build()
    if p.type == "row" and (built.grid_pos is None or (built.grid_pos.x == 0 and built.grid_pos.y == 0)):
        from .panels import dm  # what Dashboard.with_row gives a row
        built.grid_pos = dm.GridPos(x=0, y=0, h=1, w=24)
    data = sdk_json(built)
    data["id"] = slot("id")
    data["gridPos"] = {**(data.get("gridPos") or {}), "x": slot("x"), "y": slot("y")}
    return json_text(data)[:-1].replace("\n", "\n" + PANEL_INDENT)


def panel_text(p: Panel, panel_id: int, x: int, y: int) -> str:
    """The panel's JSON text at PANEL_INDENT, numbered `panel_id` and placed at (x, y)."""
    values = string_values(p.strings)
    values.update(id=str(panel_id), x=str(x), y=str(y))
    return cached(("panel", p.type, p.key), lambda: _panel_text(p)).fill(values)


def panels_text(texts: list[str]) -> str:
    """The value of a dashboard's `panels` key, from its panels' texts."""
    return "[\n" + ",\n".join(PANEL_INDENT + t for t in texts) + "\n  ]"
