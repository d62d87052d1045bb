"""The compiler: spec -> load -> schema -> model -> checks -> targets -> validate -> output.

``compile_spec`` runs the pure part (no writes) and raises SpecError with every
error found; ``build`` also stages the tree, runs each target's validator on the
staged copy and then swaps it into the output folder, or, with ``check``, compares
it with the output folder and reports the drift. The output folder is never touched
unless everything succeeded.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .emit import OutputFile, check_tree
from .output import compare_tree, replace_tree, stage
from .spec.load import Document, display_name, load
from .spec.problems import Problem, SpecError, errors_in, report, sort_problems
from .spec.schema import validate as validate_schema
from .tools import ToolMissing

FIX_COMMAND = "make build"


@dataclass
class Compiled:
    model: Any
    files: list[OutputFile]
    source: str
    warnings: list[Problem] = field(default_factory=list)


def _targets() -> list:
    from .targets import TARGETS  # imported late: targets import the generators

    return list(TARGETS)


def _raise_on_errors(problems: list[Problem]) -> None:
    if errors_in(problems):
        raise SpecError(problems)


def load_model(
    spec: Path,
    *,
    ext_vars: dict[str, str] | None = None,
    tla_vars: dict[str, str] | None = None,
):
    """load -> schema -> model -> checks: (model, doc, warnings); SpecError on any error."""
    from .spec.checks import run_checks
    from .spec.model import build_model

    doc = load(Path(spec), ext_vars=ext_vars, tla_vars=tla_vars)
    problems = validate_schema(doc)
    _raise_on_errors(problems)  # the model may rely on the schema's guarantees
    model = build_model(doc)
    problems += run_checks(model, doc)
    _raise_on_errors(problems)
    return model, doc, problems


def compile_spec(
    spec: Path,
    *,
    ext_vars: dict[str, str] | None = None,
    tla_vars: dict[str, str] | None = None,
) -> Compiled:
    """Compile a spec into its output files; raise SpecError on any error."""
    model, doc, problems = load_model(spec, ext_vars=ext_vars, tla_vars=tla_vars)
    files = generate(model)
    _check_files(files, doc)
    return Compiled(
        model=model,
        files=sorted(files, key=lambda f: f.path),
        source=display_name(Path(spec)),
        warnings=sort_problems(problems),
    )


# From this many services on, the targets generate in worker processes, one per core:
# each is a pure function of the model, which the workers inherit when forked. Below it,
# starting the workers costs more than it saves (the AITBC spec generates in ~0.5 s).
PARALLEL_FROM = 100

# The order the workers take the targets in: the longest (prometheus) first, and the one
# with the most output (grafana, ~90 MB at 1000 services) last, so that no worker waits
# for its files to cross the pipe before it can start on another target.
POOL_ORDER = ("prometheus", "alertmanager", "pagerduty", "docs", "grafana")

_forked_model: Any = None


def generate(model: Any) -> list[OutputFile]:
    """Every target's files for `model`, in target order."""
    targets = _targets()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if len(getattr(model, "services", ())) < PARALLEL_FROM or cores < 2 or "fork" not in mp.get_all_start_methods():
        return [f for target in targets for f in target.generate(model)]
    global _forked_model
    _forked_model = model
    names = [t.name for t in targets]
    order = sorted(range(len(targets)), key=lambda i: POOL_ORDER.index(names[i]) if names[i] in POOL_ORDER else 0)
    try:
        with mp.get_context("fork").Pool(min(cores, len(targets))) as pool:
            found = dict(zip(order, pool.map(_generate_in_worker, order, chunksize=1)))
    finally:
        _forked_model = None
    return [f for i in range(len(targets)) for f in found[i]]


def _generate_in_worker(index: int) -> list[OutputFile]:
    # A worker lives for one generate call and builds acyclic data (reference counting
    # frees it): the cyclic collector would only walk the inherited model again and again.
    gc.disable()
    return _targets()[index].generate(_forked_model)


def _check_files(files: list[OutputFile], doc: Document) -> None:
    try:
        check_tree(files)
    except ValueError as exc:
        raise SpecError([doc.problem((), str(exc), "output/tree")]) from exc


def validate_tree(root: Path, model: Any, timings: dict[str, float] | None = None) -> list[Problem]:
    """Run every target's validator on a staged output tree, side by side.

    The validators only read the tree; most of their time is spent waiting for
    promtool, amtool or alertmanager, so one thread each lets the external tools and
    the Python-side schema checks use the cores together. Problems are sorted, so the
    report does not depend on which finished first. `timings`, if given, receives each
    target's wall time (for the benchmark).
    """
    targets = [t for t in _targets() if t.validate is not None]

    def run(target) -> list[Problem]:
        start = time.perf_counter()
        try:
            return target.validate(root, model)
        finally:
            if timings is not None:
                timings[target.name] = round(time.perf_counter() - start, 3)

    with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
        found = list(pool.map(run, targets))
    return sort_problems([p for problems in found for p in problems])


def build(
    spec: Path,
    out: Path,
    *,
    check: bool = False,
    validate: bool = True,
    ext_vars: dict[str, str] | None = None,
    tla_vars: dict[str, str] | None = None,
    fmt: str = "text",
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Compile ``spec`` into ``out`` (or with ``check`` compare against it); return the exit code.

    Problems go to ``stderr``, sorted, with a count line; drift goes to ``stdout``.
    """
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    out = Path(out)
    staged: Path | None = None
    try:
        compiled = compile_spec(spec, ext_vars=ext_vars, tla_vars=tla_vars)
        warnings = list(compiled.warnings)
        if validate or not check:
            # Stage next to `out` so the final swap is a rename on one filesystem.
            parent = Path(tempfile.gettempdir()) if check else out.absolute().parent
            staged = stage(compiled.files, parent=parent)
        if validate:
            found = validate_tree(staged, compiled.model)
            warnings += [p for p in found if not p.is_error]
            _raise_on_errors(found)
        if warnings:
            stderr.write(report(warnings, fmt))
        if check:
            return _report_drift(compare_tree(compiled.files, out), out, len(compiled.files), stdout, stderr)
        replace_tree(staged, out)
        staged = None
        stderr.write(f"wrote {files_count(len(compiled.files))} to {display_name(out)}/\n")
        return 0
    except SpecError as exc:
        stderr.write(report(exc.problems, fmt))
        return 1
    except (ToolMissing, OSError) as exc:  # a missing tool, or an output folder we cannot write
        stderr.write(f"error: {exc}\n")
        return 1
    finally:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)


def files_count(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def _report_drift(drift: list[str], out: Path, count: int, stdout: TextIO, stderr: TextIO) -> int:
    name = display_name(out)
    if not drift:
        stderr.write(f"{name}/ is up to date ({files_count(count)})\n")
        return 0
    for entry in drift:
        stdout.write(entry if entry.endswith("\n") else entry + "\n")
    stderr.write(
        f"{name}/ is out of date: {len(drift)} file(s) differ from the spec; "
        f"run `{FIX_COMMAND}` to regenerate it and commit the result\n"
    )
    return 1
