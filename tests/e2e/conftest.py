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


RUNNING: list = []       # the stack of the session, for failure reports


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed end-to-end test shows what was notified and the servers' logs."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and RUNNING and "e2e" in getattr(item, "fixturenames", ()):
        stack = RUNNING[0]
        report.sections.append(("notifications", stack.recorder.summary(stack.started_at)))
        report.sections.append(("server logs", stack.procs.logs()))


@pytest.fixture(scope="session")
def e2e(compiled):
    """(stack, facts): the AITBC spec running in Prometheus and Alertmanager, the timeline under way."""
    with tempfile.TemporaryDirectory(prefix="montool-e2e-") as tmp:
        stack, facts = world.build(compiled, Path(tmp))
        stack.start()
        RUNNING.append(stack)
        try:
            world.drive(stack, facts)
            yield stack, facts
        finally:
            RUNNING.clear()
            stack.stop()
