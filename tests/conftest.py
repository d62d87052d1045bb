"""Shared pytest options and fixtures."""

from __future__ import annotations

import sys
import textwrap
import types
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Upstream JSON Schemas and API descriptions (Grafana, PagerDuty) shared by all engineers.
REFERENCE = REPO_ROOT.parent / "shared" / "reference"
CASES = REPO_ROOT / "tests" / "cases"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/cases/*/expected/ from the current generators (deletes stale files).",
    )


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def reference() -> Path:
    return REFERENCE


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write dedented files under a temporary folder that is also the current directory.

    ``write("spec/a.yaml", "...")`` returns the path; file names in problems are then
    relative (``spec/a.yaml:3:5``).
    """
    monkeypatch.chdir(tmp_path)

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


# A small schema standing in for the spec language in pipeline unit tests.
TEST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["services"],
    "properties": {
        "version": {"const": 1},
        "services": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z][a-z0-9-]*$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["team"],
                "properties": {
                    "team": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
                    "objective": {"type": "number", "minimum": 0, "maximum": 100},
                    "owner": {"type": "string", "format": "email"},
                    "threshold": {
                        "oneOf": [
                            {"type": "number"},
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["warning"],
                                "properties": {"warning": {"type": "number"}, "critical": {"type": "number"}},
                            },
                        ]
                    },
                },
            },
        },
    },
}


class FakePipeline:
    """Stands in for model, checks and targets so the compiler can be tested alone.

    The model is the spec data; the one target writes ``services/<name>.yaml`` per
    service. ``check_problems`` and ``validate_problems`` are returned by the checks
    and the validator.
    """

    def __init__(self):
        self.check_problems: list = []
        self.validate_problems: list = []
        self.validated: list[Path] = []

    def generate(self, model) -> list:
        from generators.emit import OutputFile, generated_header, yaml_text

        return [
            OutputFile(f"services/{name}.yaml", yaml_text(body, header=generated_header("spec")))
            for name, body in sorted(model["services"].items())
        ]

    def validate(self, root: Path, model) -> list:
        self.validated.append(root)
        assert sorted(p.name for p in (root / "services").iterdir()) == sorted(
            f"{name}.yaml" for name in model["services"]
        )
        return list(self.validate_problems)


@pytest.fixture
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> FakePipeline:
    from generators import compiler
    from generators.spec import schema

    fake = FakePipeline()
    model = types.ModuleType("generators.spec.model")
    model.build_model = lambda doc: doc.data
    checks = types.ModuleType("generators.spec.checks")
    checks.run_checks = lambda model, doc: list(fake.check_problems)
    targets = types.ModuleType("generators.targets")
    targets.TARGETS = [
        types.SimpleNamespace(name="fake", generate=fake.generate, validate=fake.validate)
    ]
    monkeypatch.setitem(sys.modules, "generators.spec.model", model)
    monkeypatch.setitem(sys.modules, "generators.spec.checks", checks)
    monkeypatch.setitem(sys.modules, "generators.targets", targets)
    monkeypatch.setattr(compiler, "validate_schema", lambda doc: schema.validate(doc, TEST_SCHEMA))
    return fake
