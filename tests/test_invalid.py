"""The invalid-spec corpus: every mistake in tests/invalid/ gives exactly its expected lines.

A case is `tests/invalid/<case>.yaml|.json|.jsonnet` or a folder `tests/invalid/<case>/`,
with `<case>.expected` holding the problem lines `montool check` prints, run from the
repository root. The expectations are written by hand from what the message should
say; there is deliberately no refresh flag. Most cases are `tests/specs/minimal.yaml`
with one edit.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from generators import cli

from conftest import REPO_ROOT

INVALID = REPO_ROOT / "tests" / "invalid"
MINIMAL = REPO_ROOT / "tests" / "specs" / "minimal.yaml"
SUFFIXES = (".yaml", ".json", ".jsonnet")
LINE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>[1-9]\d*):(?P<col>[1-9]\d*): "
                  r"(?:error|warning): .+ \([a-z-]+/[a-zA-Z-]+\)$")

# Loader/schema messages that are not yet what they should say (owned by the loader's
# engineer; reported to the lead). strict: the case fails loudly once fixed, so the
# entry is then removed.
NOT_YET: dict[str, str] = {}   # case -> reason, for a known gap being fixed


def _input(expected: Path) -> Path:
    found = [p for p in (expected.with_suffix(s) for s in SUFFIXES) if p.is_file()]
    folder = expected.with_suffix("")
    if folder.is_dir():
        found.append(folder)
    assert len(found) == 1, f"{expected.name}: expected exactly one input, found {found}"
    return found[0]


CASES = sorted(p.stem for p in INVALID.glob("*.expected"))


def case_params():
    return [pytest.param(c, marks=pytest.mark.xfail(reason=NOT_YET[c], strict=True)) if c in NOT_YET else c
            for c in CASES]


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)


def check(*args: str):
    return CliRunner().invoke(cli.main, ["check", *args])


def test_corpus_is_large_and_complete():
    inputs = {p.with_suffix("").name if p.is_file() else p.name
              for p in INVALID.iterdir() if p.suffix in SUFFIXES or p.is_dir()}
    assert inputs == set(CASES), "every input needs a .expected file and every .expected an input"
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", case_params())
def test_case_gives_exactly_its_expected_problems(case, at_root):
    source = _input(INVALID / f"{case}.expected")
    expected = (INVALID / f"{case}.expected").read_text(encoding="utf-8").splitlines()
    result = check(source.relative_to(REPO_ROOT).as_posix())
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert "Traceback" not in result.output + result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == f"{len(expected)} error{'s' * (len(expected) != 1)}, 0 warnings"
    assert lines[:-1] == expected
    for line in expected:
        match = LINE.match(line)
        assert match, f"not a positioned problem line: {line}"
        assert (REPO_ROOT / match["file"]).is_file()


@pytest.mark.parametrize("case", [c for c in CASES if _input(INVALID / f"{c}.expected").suffix == ".yaml"])
def test_derived_cases_are_the_minimal_spec_plus_one_mistake(case):
    text = _input(INVALID / f"{case}.expected").read_text(encoding="utf-8")
    if not text.startswith("# Derived from tests/specs/minimal.yaml"):
        return  # a hand-made case (e.g. a top-level list) that cannot be one edit away
    base = MINIMAL.read_text(encoding="utf-8").splitlines()[2:]
    edits = [op for op in difflib.SequenceMatcher(None, base, text.splitlines()[2:]).get_opcodes()
             if op[0] != "equal"]
    assert 1 <= len(edits) <= 2, edits


def test_alias_bomb_is_refused_quickly(at_root):
    started = time.perf_counter()
    result = check("tests/invalid/alias-bomb.yaml")
    elapsed = time.perf_counter() - started
    assert result.exit_code == 1 and "load/alias-bomb" in result.stderr
    assert elapsed < 1.0, f"took {elapsed:.2f}s"


def test_file_over_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    limit = 5 * 1024 * 1024
    big = tmp_path / "big.yaml"
    padding = "# padding\n" * (limit // 10 + 1)
    big.write_text(MINIMAL.read_text(encoding="utf-8") + padding, encoding="utf-8")
    size = big.stat().st_size
    assert size > limit
    started = time.perf_counter()
    result = check("big.yaml")
    assert time.perf_counter() - started < 1.0
    assert result.exit_code == 1
    assert result.stderr == (f"big.yaml:1:1: error: file is {size} bytes, larger than the limit of "
                             f"{limit} bytes (load/size)\n1 error, 0 warnings\n")


def test_github_format_carries_the_position(at_root):
    result = check("--format", "github", "tests/invalid/unknown-person.yaml")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "::error file=tests/invalid/unknown-person.yaml,line=23,col=22,title=ref/person::"
        "rotations.oncall.members[1]: unknown person 'carol' (known: alice, bob)")


def test_as_a_real_process():
    """The installed entry point, not only click's runner: exit 1, the lines, no traceback."""
    case = "duplicate-across-files"
    proc = subprocess.run([sys.executable, "-m", "generators", "check", f"tests/invalid/{case}"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.splitlines()[:-1] == (INVALID / f"{case}.expected").read_text().splitlines()
