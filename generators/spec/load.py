"""Load a spec: one file or a folder of YAML, JSON and Jsonnet files, into one Document.

Every node keeps its position (file, line, column) so that every later stage can
report a problem where it is, without computing line numbers itself.

- ``.yaml`` / ``.yml``: PyYAML safe composer; positions are exact (for a mapping
  entry, the position of its key). Duplicate keys in one mapping, tags other than
  the standard ones, non-scalar keys and alias bombs are problems.
- ``.json``: values from the ``json`` module, positions from the YAML composer
  (JSON is YAML), so they are exact too.
- ``.jsonnet``: evaluated with ``ext_vars`` / ``tla_vars``; imports are confined to
  the spec's folder. Positions are best effort: the line of the first occurrence of
  the key in the source, else the parent's.

A folder holds every ``*.yaml|*.yml|*.json|*.jsonnet`` in it, recursively, sorted,
except names starting with ``_`` or ``.``. Top-level mappings are merged one level
deep; defining the same entry in two files is a problem naming both places.
"""

from __future__ import annotations

import gc
import json
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .problems import Position, Problem, SpecError, json_path

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ALIAS_NODES = 200_000
SPEC_SUFFIXES = (".yaml", ".yml", ".json", ".jsonnet")

_YAML = "tag:yaml.org,2002:"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loader that also reads YAML 1.2 / JSON floats without a dot, like ``1e5``."""


_Loader.add_implicit_resolver(
    _YAML + "float", re.compile(r"^[-+]?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)
_SCALAR_TAGS = {_YAML + t for t in ("str", "int", "float", "bool", "null", "timestamp")}


@dataclass
class Document:
    """The loaded spec: plain data plus the source position of every node."""

    data: dict
    files: list[str]
    root: Path
    positions: dict[tuple, Position] = field(default_factory=dict, repr=False)

    def locate(self, parts: tuple) -> Position:
        """Position of the node at ``parts``, else of its nearest located ancestor."""
        parts = tuple(parts)
        for end in range(len(parts), -1, -1):
            pos = self.positions.get(parts[:end])
            if pos is not None:
                return pos
        return Position(self.files[0] if self.files else "<spec>", 1, 1)

    def source_of(self, parts: tuple) -> str:
        return self.locate(parts).file

    def problem(self, parts: tuple, message: str, rule: str, severity: str = "error") -> Problem:
        """A problem about the node at ``parts``, at its position."""
        return Problem.at(self.locate(parts), json_path(parts), message, rule, severity)


def display_name(path: Path) -> str:
    """Relative to the current directory when under it, else absolute (posix)."""
    path = Path(path).absolute()
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def spec_files(root: Path) -> list[Path]:
    """The spec files of a folder, recursively and sorted."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(("_", ".")) for part in rel.parts):
            continue
        if path.suffix in SPEC_SUFFIXES and path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def load(
    path: Path,
    *,
    ext_vars: dict[str, str] | None = None,
    tla_vars: dict[str, str] | None = None,
) -> Document:
    """Load a spec file or folder; raise SpecError with every problem found."""
    path = Path(path)
    name = display_name(path)
    if not path.exists():
        raise SpecError([Problem(name, 1, 1, "", "no such file or folder", "load/missing")])
    if path.is_dir():
        root, files = path, spec_files(path)
        if not files:
            raise SpecError(
                [Problem(name, 1, 1, "", "no *.yaml, *.yml, *.json or *.jsonnet file in this folder", "load/empty")]
            )
    else:
        root, files = path.parent, [path]
    problems: list[Problem] = []
    loaded: list[_Loaded] = []
    with _no_gc():
        for file in files:
            result = _load_file(file, root, ext_vars or {}, tla_vars or {})
            problems += result.problems
            if result.data is not None:
                loaded.append(result)
        doc = _merge(loaded, root, problems)
    doc.files = [display_name(f) for f in files]
    if problems:
        raise SpecError(problems)
    return doc


@contextmanager
def _no_gc():
    """Pause the cyclic garbage collector: loading creates a node and a position per value
    and no cycles, and the collector's passes over that growing heap cost more than the
    loading itself on large specs (reference counting still frees what is dropped)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _Loaded:
    name: str
    data: dict | None = None
    positions: dict[tuple, Position] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _load_file(path: Path, root: Path, ext_vars: dict, tla_vars: dict) -> _Loaded:
    out = _Loaded(display_name(path))

    def fail(message: str, rule: str, line: int = 1, column: int = 1) -> _Loaded:
        out.problems.append(Problem(out.name, line, column, "", message, rule))
        out.data = None
        return out

    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return fail(f"file is {size} bytes, larger than the limit of {MAX_FILE_BYTES} bytes", "load/size")
        if path.suffix == ".jsonnet":
            from .jsonnet import evaluate   # here: it imports display_name from this module

            text, problem = evaluate(path, root, ext_vars, tla_vars, out.name)
            if text is None:
                out.problems.append(problem)
                return out
            source = path.read_text(encoding="utf-8", errors="replace")
            out.data = json.loads(text)
            _check_top(out)
            if out.data is not None:
                out.positions = _search_positions(out.data, source, out.name)
            return out
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return fail(f"file is not valid UTF-8: {exc.reason} at byte {exc.start}", "load/encoding")
    except OSError as exc:
        return fail(f"cannot read file: {exc.strerror or exc}", "load/io")

    if path.suffix == ".json":
        return _load_json(source, out)
    return _load_yaml(source, out)


def _check_top(out: _Loaded) -> None:
    if not isinstance(out.data, dict):
        if out.data is None:
            message = "the file is empty (the top level must be a mapping)"
        else:
            kind = {list: "a list", str: "a string", bool: "a boolean"}.get(type(out.data), "a number")
            message = f"the top level must be a mapping, not {kind}"
        out.problems.append(Problem(out.name, 1, 1, "", message, "load/top-level"))
        out.data = None


def _compose(source: str, out: _Loaded):
    """The YAML node tree, or None with a problem added."""
    try:
        return yaml.compose(source, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            message = f"{exc.problem} ({exc.context})"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        out.problems.append(Problem(out.name, line, column, "", message, "load/yaml"))
    except yaml.YAMLError as exc:
        out.problems.append(Problem(out.name, 1, 1, "", f"invalid YAML: {exc}", "load/yaml"))
    except RecursionError:
        out.problems.append(Problem(out.name, 1, 1, "", "the document is nested too deeply", "load/yaml"))
    return None


def _load_yaml(source: str, out: _Loaded) -> _Loaded:
    node = _compose(source, out)
    if out.problems:
        return out
    walker = _Walker(out.name)
    try:
        if node is not None:
            walker.check_size(node)
        out.data = walker.build(node, ()) if node is not None else None
    except _TooBig:
        out.problems.append(
            Problem(
                out.name, 1, 1, "",
                f"aliases expand to more than {MAX_ALIAS_NODES} nodes (alias bomb?)", "load/alias-bomb",
            )
        )
        return out
    except RecursionError:
        out.problems.append(Problem(out.name, 1, 1, "", "the document is nested too deeply", "load/yaml"))
        return out
    out.positions = walker.positions
    out.problems += walker.problems
    _check_top(out)
    return out


def _load_json(source: str, out: _Loaded) -> _Loaded:
    duplicates: list[str] = []

    def pairs(items):
        seen = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    def constant(name):
        raise ValueError(f"{name} is not valid JSON")

    try:
        out.data = json.loads(source, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        return _fail_json(out, exc.msg, exc.lineno, exc.colno)
    except (ValueError, RecursionError) as exc:
        return _fail_json(out, str(exc) if isinstance(exc, ValueError) else "the document is nested too deeply")
    _check_top(out)
    if out.data is None:
        return out
    # Positions (and duplicate keys, with their places) from the YAML composer.
    scratch = _Loaded(out.name)
    node = _compose(source, scratch)
    if node is not None:
        walker = _Walker(out.name)
        try:
            walker.check_size(node)
            walker.build(node, ())
            out.positions = walker.positions
            out.problems += [p for p in walker.problems if p.rule == "load/duplicate-key"]
            return out
        except (_TooBig, RecursionError):
            pass
    out.positions = _search_positions(out.data, source, out.name)
    out.problems += [
        Problem(out.name, 1, 1, "", f"duplicate key {key!r}", "load/duplicate-key") for key in duplicates
    ]
    return out


def _fail_json(out: _Loaded, message: str, line: int = 1, column: int = 1) -> _Loaded:
    out.problems.append(Problem(out.name, line, column, "", message, "load/json"))
    out.data = None
    return out


class _TooBig(Exception):
    pass


class _Walker:
    """Turns a YAML node tree into plain data, recording the position of every node."""

    def __init__(self, name: str):
        self.name = name
        self.positions: dict[tuple, Position] = {}
        self.problems: list[Problem] = []
        self.constructor = yaml.constructor.SafeConstructor()
        self.active: set[int] = set()
        self.sizes: dict[int, int] = {}

    def check_size(self, root) -> None:
        """Refuse, before building anything, a tree whose aliases expand to too many nodes."""
        if self.size(root) - len(self.sizes) > MAX_ALIAS_NODES:
            raise _TooBig()

    def size(self, node) -> int:
        """Number of nodes ``node`` expands to (memoised, so shared subtrees cost once)."""
        key = id(node)
        if key not in self.sizes:
            self.sizes[key] = 1  # also ends recursion through a recursive alias
            if isinstance(node, yaml.SequenceNode):
                self.sizes[key] += sum(self.size(item) for item in node.value)
            elif isinstance(node, yaml.MappingNode):
                self.sizes[key] += sum(self.size(k) + self.size(v) for k, v in node.value)
        return self.sizes[key]

    def pos(self, node) -> Position:
        return Position(self.name, node.start_mark.line + 1, node.start_mark.column + 1)

    def problem(self, node, parts, message, rule):
        self.problems.append(Problem.at(self.pos(node), json_path(parts), message, rule))

    def build(self, node, parts: tuple):
        key = id(node)
        if key in self.active:
            self.problem(node, parts, "recursive alias", "load/alias")
            return None
        if parts not in self.positions:  # a mapping value already has its key's position
            self.positions[parts] = self.pos(node)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, parts)
        self.active.add(key)
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _YAML + "seq":
                    self.problem(node, parts, f"unsupported tag {node.tag!r}", "load/tag")
                return [self.build(item, parts + (i,)) for i, item in enumerate(node.value)]
            if node.tag != _YAML + "map":
                self.problem(node, parts, f"unsupported tag {node.tag!r}", "load/tag")
            return self.mapping(node, parts)
        finally:
            self.active.discard(key)

    def scalar(self, node, parts):
        if node.tag not in _SCALAR_TAGS:
            self.problem(node, parts, f"unsupported tag {node.tag!r}", "load/tag")
            return node.value
        if node.tag == _YAML + "str" or node.tag == _YAML + "timestamp":
            # a string is its text (what SafeConstructor gives, without its bookkeeping);
            # dates stay strings: the schema checks their format
            return node.value
        try:
            value = self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.problem(node, parts, str(getattr(exc, "problem", exc)), "load/yaml")
            return node.value
        if isinstance(value, float) and not math.isfinite(value):
            self.problem(node, parts, f"{node.value} is not a finite number", "load/number")
        return value

    def entries(self, node, parts):
        """(key node, value node) pairs with YAML merge keys (``<<``) applied."""
        own, merged = [], {}
        for key_node, value_node in node.value:
            if key_node.tag == _YAML + "merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for src in sources:
                    if not isinstance(src, yaml.MappingNode):
                        self.problem(src, parts, "a merge key (<<) needs a mapping or a list of mappings", "load/merge")
                        continue
                    for k, v in self.entries(src, parts):
                        merged.setdefault(getattr(k, "value", id(k)), (k, v))  # earlier sources win
            else:
                own.append((key_node, value_node))
        own_keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        return own + [kv for key, kv in merged.items() if key not in own_keys]

    def mapping(self, node, parts):
        result: dict = {}
        first: dict[str, Position] = {}
        for key_node, value_node in self.entries(node, parts):
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "":
                self.problem(key_node, parts, "mapping keys must be non-empty scalars", "load/key")
                continue
            if key_node.tag not in _SCALAR_TAGS:
                self.problem(key_node, parts, f"unsupported tag {key_node.tag!r}", "load/tag")
            key = key_node.value  # the source text, so `on:` stays "on" and `1:` is "1"
            here = self.pos(key_node)
            if key in first:
                prev = first[key]
                if prev != here:  # the same entry reached again through a merge is not a duplicate
                    self.problems.append(
                        Problem.at(
                            here, json_path(parts + (key,)),
                            f"duplicate key {key!r} (first defined at {prev.file}:{prev.line}:{prev.column})",
                            "load/duplicate-key",
                        )
                    )
                continue
            first[key] = here
            self.positions.setdefault(parts + (key,), here)
            result[key] = self.build(value_node, parts + (key,))
        return result


def _search_positions(data, source: str, name: str) -> dict[tuple, Position]:
    """Best-effort positions: each key at its first occurrence at or after its parent's line."""
    lines = source.splitlines()
    positions: dict[tuple, Position] = {(): Position(name, 1, 1)}

    def find(key: str, start: int) -> Position | None:
        pattern = re.compile(r"(?<![\w-])['\"]?" + re.escape(key) + r"['\"]?\s*:")
        for order in (range(start, len(lines)), range(0, start)):
            for i in order:
                match = pattern.search(lines[i])
                if match:
                    return Position(name, i + 1, match.start() + 1)
        return None

    def walk(node, parts: tuple, parent: Position):
        if isinstance(node, dict):
            for key, value in node.items():
                pos = find(str(key), parent.line - 1) or parent
                positions[parts + (key,)] = pos
                walk(value, parts + (key,), pos)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                positions[parts + (i,)] = parent
                walk(value, parts + (i,), parent)

    walk(data, (), positions[()])
    return positions


# --- Merging -------------------------------------------------------------------------


def _merge(loaded: list[_Loaded], root: Path, problems: list[Problem]) -> Document:
    doc = Document(data={}, files=[], root=root)
    if loaded:
        doc.positions[()] = loaded[0].positions.get((), Position(loaded[0].name, 1, 1))

    under: dict[int, dict[tuple, list]] = {}   # per part: prefix (1 or 2 parts) -> its positions, in order

    def adopt(part: _Loaded, prefix: tuple):
        if id(part) not in under:
            index: dict[tuple, list] = {}
            for parts, pos in part.positions.items():
                for n in (1, 2)[: len(parts)]:
                    index.setdefault(parts[:n], []).append((parts, pos))
            under[id(part)] = index
        for parts, pos in under[id(part)].get(prefix, ()):
            doc.positions.setdefault(parts, pos)

    def duplicate(part: _Loaded, prefix: tuple):
        first, second = doc.locate(prefix), part.positions.get(prefix, Position(part.name, 1, 1))
        problems.append(
            Problem.at(
                second, json_path(prefix),
                f"duplicate definition of {json_path(prefix)} "
                f"(first defined at {first.file}:{first.line}:{first.column})",
                "load/duplicate",
            )
        )

    for part in loaded:
        for key, value in part.data.items():
            if key not in doc.data:
                doc.data[key] = value
                adopt(part, (key,))
            elif isinstance(doc.data[key], dict) and isinstance(value, dict):
                for sub, sub_value in value.items():
                    if sub in doc.data[key]:
                        duplicate(part, (key, sub))
                    else:
                        doc.data[key][sub] = sub_value
                        adopt(part, (key, sub))
            else:
                duplicate(part, (key,))
    return doc
