"""Reading one part of a large block-style YAML file without parsing all of it.

At a thousand services the staged Alertmanager files are megabytes of YAML, and
PyYAML reads about a megabyte a second: validation would spend most of its time
parsing what it does not look at (the inhibition expectations of `routes.yml`,
the receivers of the Helm values). `section(text, "a", "b")` returns the text of
the block value of key `b` under top-level key `a`, its indentation removed, which
is a YAML document of its own.

This relies on block style only: a key at some indentation owns the following
lines that are blank, comments or indented deeper (or sequence items at the same
indentation). Anything else (a flow-style or scalar value where a block is
expected, a line the rule does not explain) makes `section` return None and the
caller parses the whole file instead, so a file montool did not write the usual
way is still read correctly, only more slowly.
"""
from __future__ import annotations

import json
import re

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when installed: several times faster

_KEY = re.compile(r'([A-Za-z_][A-Za-z0-9_.-]*|"[^"\\]*"|\'[^\']*\'):(?=[ \t]|$)(.*)$')


def load(text: str):
    return yaml.load(text, Loader=Loader)


def _span(lines: list[str], key: str) -> tuple[int, int] | None:
    """(index of the line of top-level `key`, index after its block), or None."""
    start = None
    for i, line in enumerate(lines):
        if line.startswith(("---", "...")):
            return None                  # a document marker: more than one document
        if not line.strip() or line[0] in " \t#-":
            continue                     # inside the current block (or a comment)
        m = _KEY.match(line.rstrip("\r\n"))
        if m is None:
            return None                  # a line this rule does not explain (flow style)
        if start is not None:
            return start, i
        if m.group(1).strip("\"'") == key:
            rest = m.group(2).strip()
            if rest and not rest.startswith("#"):
                return None              # an inline value, not a block
            start = i
    return (start, len(lines)) if start is not None else None


def keys(text: str) -> set[str] | None:
    """The top-level keys of `text`, or None when it is not plain block style at the top."""
    out = set()
    for line in text.splitlines():
        if line.startswith(("---", "...")):
            return None
        if not line.strip() or line[0] in " \t#-":
            continue
        m = _KEY.match(line)
        if m is None:
            return None
        out.add(m.group(1).strip("\"'"))
    return out


def load_keys(text: str, wanted) -> dict:
    """{key: value} for the top-level keys in `wanted` that `text` has, parsing only
    their blocks when the file allows, else all of it."""
    present = keys(text)
    if present is not None:
        parts = {k: section(text, k) for k in wanted if k in present}
        if all(part is not None for part in parts.values()):
            return {k: load(part) for k, part in parts.items()}
    whole = load(text)
    return {k: whole[k] for k in wanted if isinstance(whole, dict) and k in whole}


def _block(lines: list[str], key: str) -> list[str] | None:
    """The lines of the block value of top-level `key` (still indented), or None."""
    span = _span(lines, key)
    return None if span is None else lines[span[0] + 1:span[1]]


def replace(text: str, key: str, value) -> str | None:
    """`text` with the block of top-level `key` replaced by `key: <value as JSON>`."""
    lines = text.splitlines(keepends=True)
    span = _span(lines, key)
    if span is None:
        return None
    return "".join(lines[:span[0]] + [f"{key}: {json.dumps(value)}\n"] + lines[span[1]:])


def _dedent(lines: list[str]) -> str | None:
    body = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not body:
        return None
    indent = len(body[0]) - len(body[0].lstrip(" "))
    prefix = " " * indent
    out = []
    for ln in lines:
        if ln.startswith(prefix):
            out.append(ln[indent:])
        elif ln.strip() and not ln.lstrip().startswith("#"):
            return None                  # a line outside the block's indentation
        else:
            out.append(ln.lstrip(" "))
    return "".join(out)


def section(text: str, *keys: str) -> str | None:
    """The text of the block at `keys` (a path of mapping keys), dedented; None when the
    file is not plain block style there."""
    for key in keys:
        lines = _block(text.splitlines(keepends=True), key)
        if lines is None:
            return None
        text = _dedent(lines)
        if text is None:
            return None
    return text


def load_section(text: str, *keys: str):
    """The value at `keys`, parsing only its block when the file allows, else all of it."""
    part = section(text, *keys)
    if part is not None:
        return load(part)
    node = load(text)
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node
