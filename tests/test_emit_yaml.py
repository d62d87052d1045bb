"""The fast YAML writer writes exactly the bytes PyYAML's emitter writes.

`yaml_text` lays out block YAML itself and caches each distinct scalar's text; the
reference is `_yaml_text_pyyaml`, the PyYAML-based writer montool used before (kept in
emit.py for these tests). Every comparison here is with that oracle, on montool's own
documents, on hand-picked edge cases and on random structures.
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import generators.emit as emit
from generators.compiler import compile_spec
from generators.emit import _yaml_fast, _yaml_text_pyyaml, yaml_text

from conftest import REPO_ROOT


def _fresh_caches():
    for cache in emit._caches + emit._str_caches:
        cache.clear()


@pytest.fixture
def checked_yaml_text(monkeypatch):
    """Route every yaml_text call of the generators through both writers; the calls are
    recorded as (fell back to PyYAML?) so the test can tell the fast path did the work."""
    from generators.targets import TARGETS  # noqa: F401  (imports every generator module first)

    calls: list[bool] = []

    def both(obj, *, header=None):
        try:
            _yaml_fast(obj)
            fell_back = False
        except emit._Fallback:
            fell_back = True
        fast, ref = yaml_text(obj, header=header), _yaml_text_pyyaml(obj, header=header)
        assert fast == ref, f"fast writer differs from PyYAML for a document starting {ref[:200]!r}"
        calls.append(fell_back)
        return fast

    for name, module in list(sys.modules.items()):
        if (name == "generators" or name.startswith("generators.")) and getattr(module, "yaml_text", None) is yaml_text:
            monkeypatch.setattr(module, "yaml_text", both)
    _fresh_caches()
    return calls


def _synthetic_spec(tmp_path: Path) -> Path:
    monkey_path = str(REPO_ROOT / "bench")
    sys.path.insert(0, monkey_path)
    try:
        from synth import write_spec
    finally:
        sys.path.remove(monkey_path)
    return write_spec(10, tmp_path, REPO_ROOT / "spec" / "aitbc.yaml")


@pytest.mark.parametrize("spec", ["spec", "tests/specs/minimal.yaml", "synthetic-10"])
def test_every_generated_yaml_document_matches_pyyaml(spec, checked_yaml_text, tmp_path):
    path = _synthetic_spec(tmp_path) if spec == "synthetic-10" else REPO_ROOT / spec
    compiled = compile_spec(path)
    yaml_files = [f for f in compiled.files if f.path.endswith((".yml", ".yaml"))]
    assert yaml_files and len(checked_yaml_text) >= len(yaml_files) // 2  # the hook saw the documents
    assert not any(checked_yaml_text), "montool's own documents should not need the PyYAML fallback"


ATOMS = [
    "", " lead", "trail ", "in  side", "yes", "no", "on", "off", "null", "Null", "~", "true", "False", "1", "1.0",
    "-1", "+1", "0x1f", "0o17", "017", "1_000", "1e3", "1.5e3", ".inf", "-.inf", ".nan", "2024-01-02", "12:30:00",
    "<<", "=", "-", "--", "---", "--- x", "...", ". x", "- x", "-x", ": x", ":x", "x:", "a: b", "a:b", "a #b", "a#b",
    "#x", "*x", "&x", "!x", "%x", "@x", "`x", "{x", "}x", "[x", "]x", ",x", "|x", ">x", '"x', "'x", "it's", "?", "? x",
    "?x", "x?", "x\n", "x\ny", "\nx", " x\ny", "x\n\n", "x\n\n\n", "\n", "\n\n", "x \ny", "x\n y", "x\ny ", " \n",
    "tab\tin", "\tlead", "é", "naïve café", "日本語", "\u00a0nbsp", "\u2028", "a\u2028b", "a\u2029", "a\x85b", "\ufeffbom",
    "\x00", "bell\x07", "esc\x1b[0m", "del\x7f", "\ud800", "😀 emoji", "\U0010ffff", "\U0010fffe",
    "x" * 121, "y" * 122, "z" * 123, "w" * 130, "long value " * 30, "{{ $labels.instance }} is down",
    'sum(rate(x{job="a",code=~"5.."}[5m])) > 0.5', "'quoted'", '"double"', "a'b''c",
    None, True, False, 0, 1, -1, 7, -42, 10**20, -(10**20), 0.0, -0.0, 2.5, 1e-7, 1e-12, 1e20, 1 / 3, 1 - 0.999,
    float("nan"), float("inf"), float("-inf"), 3.0, -3.0, Decimal("0.001"), Decimal("2"), Decimal("2.50"),
    Decimal("-0"), Decimal("1E-10"), Decimal("NaN"),
]
EMPTIES = [{}, [], (), [[]], [{}], [{}, {}], {"e": {}}, [[], [[]]]]


def _same(obj):
    assert yaml_text(obj) == _yaml_text_pyyaml(obj), repr(obj)
    assert yaml_text(obj, header="h") == _yaml_text_pyyaml(obj, header="h")


@pytest.mark.parametrize("atom", ATOMS, ids=repr)
def test_scalar_in_every_position_matches_pyyaml(atom):
    _fresh_caches()
    for _ in range(2):  # cold cache, then warm
        _same({"k": atom})
        _same([atom])
        _same([atom, "after"])
        _same({"a": {"b": [{"c": atom, "d": 1}, [atom, [atom]]]}, "z": atom})
        _same({"deep": [[[[{"x": [atom]}]]]]})
        if atom is not None and not (isinstance(atom, (float, Decimal)) and atom != atom):
            _same({atom: 1, "k": atom})
            _same([{atom: {atom: atom}}])


@pytest.mark.parametrize("obj", EMPTIES, ids=repr)
def test_empty_collections_match_pyyaml(obj):
    _same(obj)
    _same({"k": obj})
    _same([obj, obj])
    _same({"a": [{"b": obj}]})


@pytest.mark.parametrize("obj", ["scalar", 5, None, "x\n\n", {1: "int key", 2.5: "float key", None: "n", False: "f"},
                                 {("t", "k"): 1}, {"s": {1, 2}}, [(1, 2), ("a", ("b",))]], ids=repr)
def test_other_documents_match_pyyaml(obj):
    _same(obj)


class _Text(str):
    pass


@pytest.mark.parametrize("obj", [{"a": _Text("x")}, {"a": object()}, {"a": Decimal("sNaN")}], ids=repr)
def test_what_pyyaml_refuses_is_refused_alike(obj):
    with pytest.raises(Exception) as ref:
        _yaml_text_pyyaml(obj)
    with pytest.raises(ref.type):
        yaml_text(obj)


def test_literal_blocks_by_hand():
    # Derived from the YAML 1.1 block scalar rules: content indented 2 past the parent's
    # indent, "-" strips a missing final newline, "+" keeps extra ones, "2" when the first
    # line starts with a space; an open "+" block at the end leaves the document open ("...").
    assert yaml_text({"a": {"b": "x\ny"}}) == "a:\n  b: |-\n    x\n    y\n"
    assert yaml_text({"a": [" x\n\ny\n"]}) == "a:\n  - |2\n     x\n\n    y\n"
    assert yaml_text({"k": "x\n\n"}) == "k: |+\n  x\n\n...\n"
    assert yaml_text({"k": "x\n\n", "j": 1}) == "k: |+\n  x\n\nj: 1\n"
    assert yaml_text({"w" * 130: 1}) == "? " + "w" * 130 + "\n: 1\n"


def _random_value(rng: random.Random, depth: int):
    roll = rng.random()
    if depth >= 4 or roll < 0.45:
        return rng.choice(ATOMS)
    if roll < 0.55:
        return rng.choice(EMPTIES)
    if roll < 0.78:
        return {_random_key(rng): _random_value(rng, depth + 1) for _ in range(rng.randint(1, 4))}
    items = [_random_value(rng, depth + 1) for _ in range(rng.randint(1, 4))]
    return tuple(items) if rng.random() < 0.2 else items


def _random_key(rng: random.Random):
    key = rng.choice(ATOMS)
    try:
        hash(key)
    except TypeError:
        return "k"
    return "nan" if key != key else key


def test_random_structures_match_pyyaml():
    rng = random.Random(20240601)
    _fresh_caches()
    for _ in range(400):
        doc = {_random_key(rng): _random_value(rng, 1) for _ in range(rng.randint(1, 5))}
        _same(doc if rng.random() < 0.8 else list(doc.values()))
