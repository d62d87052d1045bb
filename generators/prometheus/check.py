"""Validation of the staged Prometheus output with the real promtool.

`promtool check rules` (with `--lint=all --lint-fatal` when this promtool has
them) on every rule file, then `promtool test rules` on every generated test
file. Each failure becomes a Problem at the spec node behind it: the alert (by
alertname), the SLO (by the `slo` label of a recorded series), else the service
of the file; the message is promtool's own.
"""
from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from .. import tools
from ..spec.problems import Problem
from ..spec.values import Duration
from .shapes import by_shape, rule_file, service_names

_ALERT = re.compile(r"alertname: (\w+)")
_SLO = re.compile(r'slo="([^"]+)"')
_RULE_NAME = re.compile(r'rule \d+, "([^"]+)"')


@cache
def lint_flags() -> tuple[str, ...]:
    help_text = tools.run(["promtool", "check", "rules", "--help"], timeout=30)
    text = help_text.stdout + help_text.stderr
    return ("--lint=all", "--lint-fatal") if "--lint-fatal" in text and "--lint=" in text else ()


def _positions(model):
    from . import service_alerts

    by_alert, by_slo, by_stem = {}, {}, {}
    for svc in model.services:
        by_stem[svc.id] = svc.pos
        for slo in svc.slos:
            by_slo[(svc.id, slo.id)] = slo.pos
        slo_rules, alerts = service_alerts(model, svc)
        for r in slo_rules + alerts:
            by_alert.setdefault(r.name, r.pos or svc.pos)
    return by_alert, by_slo, by_stem


def _problem(model, stem: str, text: str, rule: str) -> Problem:
    by_alert, by_slo, by_stem = _positions(model)
    pos, path = None, f"prometheus/{stem}"
    m = _ALERT.search(text) or _RULE_NAME.search(text)
    if m and m.group(1) in by_alert:
        pos, path = by_alert[m.group(1)], m.group(1)
    elif (s := _SLO.search(text)) and (stem, s.group(1)) in by_slo:
        pos, path = by_slo[(stem, s.group(1))], f"{stem} SLO {s.group(1)}"
    pos = pos or by_stem.get(stem) or next((svc.pos for svc in model.services), None)
    message = " ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    if pos is None:
        return Problem(model.source, 1, 1, path, message, rule)
    return Problem.at(pos, path, message, rule)


def _stem(name: str) -> str:
    return Path(name).name.split(".")[0]


def _failures(output: str) -> list[tuple[str, str]]:
    """(test file name, one failure's text) from `promtool test rules` output."""
    out: list[list[str]] = []
    file, name, current, other = "", "", None, False
    for line in output.splitlines():
        head = re.match(r"Unit Testing:\s+(\S+)", line)
        text = line.strip()
        if head:
            file, name, current = Path(head.group(1)).name, "", None
        elif not text or text in ("FAILED:", "SUCCESS"):
            continue
        elif line.startswith("    name:"):
            name = text
        elif re.match(r"^ {4}(alertname|expr):", line):
            current, other = [file, f"{name} {text}".strip()], False
            out.append(current)
        elif current is not None and (line.startswith("     ") or other):
            current[1] += "\n" + text
        else:  # a message of its own, e.g. a file that does not load
            current, other = [file, text], True
            out.append(current)
    return [(f, t) for f, t in out]


def validate(staged_root: Path, model) -> list[Problem]:
    rules_dir, tests_dir = staged_root / "prometheus" / "rules", staged_root / "prometheus" / "tests"
    rule_files = sorted(rules_dir.glob("*.yml")) if rules_dir.is_dir() else []
    if not rule_files:
        return []
    problems = []
    checked = tools.run(["promtool", "check", "rules", *lint_flags(), *rule_files])
    if checked.returncode != 0:
        text = checked.stdout + checked.stderr
        for f in rule_files:
            lines = [ln for ln in text.splitlines() if ln.startswith(f"{f}:")]
            if lines:
                problems.append(_problem(model, _stem(f.name), "\n".join(lines), "promtool/check-rules"))
        return problems or [_problem(model, "", text, "promtool/check-rules")]
    test_files = sorted(tests_dir.glob("*.test.yml")) if tests_dir.is_dir() else []
    services = {svc.id: svc for svc in model.services}

    def names(f: Path) -> dict[str, str]:
        svc = services.get(_stem(f.name))
        return service_names(svc) if svc else {}

    shapes = by_shape(test_files, names)
    failed = _test(list(shapes), tests_dir)
    # a failing shape: every file of it, so each failure is reported at its own service
    again = [f for rep in shapes if rep.name in failed for f in shapes[rep][1:]]
    failed.update(_test(again, tests_dir))
    for name in sorted(failed):
        problems += [_problem(model, _stem(name), message, "promtool/test-rules") for message in failed[name]]
    return problems


_EVAL_TIME = re.compile(r"^[ -]+eval_time: (\S+)$", re.M)
_INTERVAL = re.compile(r"^evaluation_interval: (\S+)$", re.M)
_RULE = re.compile(r"^\s*- (?:record|alert): ", re.M)
START = 500   # promtool's start-up, in rule evaluations (~0.1 s at ~200 us each)


def work(test_file: Path) -> int:
    """Rule evaluations promtool will do for a test file: each group evaluates every rule of
    the rule file at every step up to its last eval_time (plus its start-up)."""
    text = test_file.read_text()
    rules_of = rule_file(test_file)
    rules = len(_RULE.findall(rules_of.read_text())) if rules_of.is_file() else 1
    found = _INTERVAL.search(text)
    step = Duration.parse(found.group(1)).ms if found else 60_000
    steps = 0
    for group in text.split("\n  - name: ")[1:]:
        times = [Duration.parse(t).ms for t in _EVAL_TIME.findall(group)]
        steps += max(times, default=0) // step + 1
    return START + steps * rules


def _chunks(files: list[Path], n: int) -> list[list[Path]]:
    """`files` in `n` lists of about equal work, the most work first (longest processing
    time first: within 4/3 of the best split)."""
    load, chunks = [0] * n, [[] for _ in range(n)]
    for cost, f in sorted(((work(f), f) for f in files), key=lambda x: (-x[0], x[1].name)):
        i = load.index(min(load))
        load[i] += cost
        chunks[i].append(f)
    return [sorted(c) for c in chunks if c]


def _test(files: list[Path], tests_dir: Path) -> dict[str, list[str]]:
    """`promtool test rules` on `files`, one process per core, each given a share of the
    files (one process per file spent more time starting than testing); test file name ->
    its failures."""
    if not files:
        return {}
    chunks = _chunks(files, max(1, min(len(files), os.cpu_count() or 1)))
    # promtool's tests allocate a lot and live briefly: a heap allowed to grow to 5x its live
    # data before Go collects (GOGC=400; ~110 MB a process for AITBC) takes ~15% off the
    # tests' wall time. A GOGC the user set wins.
    env = {"GOGC": os.environ.get("GOGC", "400")}
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        results = list(pool.map(lambda c: tools.run(["promtool", "test", "rules", *[f.name for f in c]],
                                                     cwd=tests_dir, timeout=900, env=env), chunks))
    failed: dict[str, list[str]] = {}
    for chunk, tested in zip(chunks, results):
        if tested.returncode != 0:
            text = tested.stdout + tested.stderr
            found = _failures(text) or [(f.name, text) for f in chunk]
            for name, message in found:
                failed.setdefault(name, []).append(message)
    return failed
