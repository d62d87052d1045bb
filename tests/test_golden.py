"""Golden cases: tests/cases/<case>/spec/ compiles to exactly tests/cases/<case>/expected/.

Refresh the expected trees with `make update-golden` (pytest --update-golden
tests/test_golden.py), which also deletes files no longer generated.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CASES

from generators.compiler import compile_spec
from generators.output import compare_tree, replace_tree, stage
from generators.spec.problems import SpecError, report

FIX = "make update-golden"


def golden_cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "spec").is_dir()) if CASES.is_dir() else []


def test_there_are_golden_cases():
    assert golden_cases(), f"no tests/cases/<case>/spec/ folder under {CASES}"


@pytest.mark.parametrize("case", golden_cases(), ids=lambda p: p.name)
def test_golden(case: Path, monkeypatch: pytest.MonkeyPatch, update_golden: bool):
    monkeypatch.chdir(case)  # file names in output and problems read `spec/...`, as in the repo
    try:
        compiled = compile_spec(Path("spec"))
    except SpecError as exc:
        pytest.fail(f"tests/cases/{case.name}/spec does not compile:\n{report(exc.problems)}", pytrace=False)
    expected = Path("expected")
    if update_golden:
        replace_tree(stage(compiled.files, parent=Path(".")), expected)
        return
    drift = compare_tree(compiled.files, expected)
    if drift:
        pytest.fail(
            f"tests/cases/{case.name}: the generated tree differs from expected/ "
            f"({len(drift)} file(s)):\n\n" + "\n".join(drift)
            + f"\nIf the change is intended, run `{FIX}` and review the diff.",
            pytrace=False,
        )
