"""One end-to-end run for the whole session: started at the first test that asks for it,
every process stopped by PID when the session ends, whatever the outcome."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from generators.compiler import compile_spec

from . import world

SPEC = Path(__file__).resolve().parents[2] / "spec"


@pytest.fixture(scope="session")
def compiled():
    """The AITBC spec compiled (in memory, as `montool build` would write it)."""
    return compile_spec(SPEC)


@pytest.fixture(scope="session")
def e2e(compiled):
    """(stack, facts): the AITBC spec running in Prometheus and Alertmanager, the timeline under way."""
    with tempfile.TemporaryDirectory(prefix="montool-e2e-") as tmp:
        stack, facts = world.build(compiled, Path(tmp))
        stack.start()
        try:
            world.drive(stack, facts)
            yield stack, facts
        finally:
            stack.stop()
