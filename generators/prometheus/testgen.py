"""Generated promtool tests for threshold, absent and Watchdog alerts.

For every alerting rule (each level of each alert) the builder writes:

- a firing case: the signal's input series held just past the level's threshold
  from the start, and the alert expected, with its exact labels and annotations,
  once the signal's window is full and `for` has elapsed (`window + for`); the
  same case also expects nothing at `for - evaluation_interval` (the `for` holds);
- a quiet case: the signal just inside the threshold, expecting no alert of that
  level (a less severe level may fire, and is then expected too);
- for alerts with `and` conditions, one more quiet case per condition: the main
  signal past its threshold, that condition just inside its own.

"Just past" is 10% of the threshold beyond it (half the distance to the bound
for ratios near 100%, 1 unit for a zero threshold); the expected alert value is
that number, humanized as the rule's description does. Series come from
`synth.py`; nothing here evaluates the rules.
"""
from __future__ import annotations

import functools
import math
import re
from decimal import Decimal

import promql_parser

from ..emit import generated_header, yaml_text
from ..spec import kinds as K
from ..spec.values import Duration, parse_matchers
from .humanize import expand
from .rules import ABSENT_FOR, AlertRule, essential_series, threshold_text
from .synth import merge, selector_series, synthesise

STEP = Duration.parse("1m")
UPPER = {K.RATIO: Decimal(1), K.BOOL: Decimal(1)}
COMPARE = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
           "<=": lambda a, b: a <= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def case_values(op: str, thr: Decimal, unit: str) -> tuple[Decimal, Decimal]:
    """(just past the threshold, just inside it) for `signal op thr`."""
    thr = Decimal(thr)
    d = Decimal(1) if unit == K.BOOL else (abs(thr) / 10 if thr else (Decimal("0.1") if unit == K.RATIO else 1))
    upper = UPPER.get(unit)
    if upper is not None and op in (">", ">=", "!=") and thr + d > upper:
        d = (upper - thr) / 2
    if op in (">", ">="):
        fire, quiet = thr + d, max(thr - d, Decimal(0))
    elif op in ("<", "<="):
        fire, quiet = max(thr - d, Decimal(0)), thr + d
        if upper is not None:
            quiet = min(quiet, upper)
    elif op == "==":
        fire, quiet = thr, thr + d
    else:
        fire, quiet = thr + d, thr
    if not COMPARE[op](fire, thr) or COMPARE[op](quiet, thr):
        raise ValueError(f"no test values on both sides of {op} {thr} ({unit})")
    return fire, quiet


def test_step(model) -> Duration:
    """The evaluation interval of every generated test file: a minute, or the spec's if longer.

    promtool evaluates every rule of the file at every step of every test, so the step
    sets the cost of the tests. Every `for`, window and threshold a test asserts is a
    whole number of minutes, so a finer grid would prove nothing more; production keeps
    the spec's group intervals.
    """
    return max(STEP, model.organization.evaluation_interval)


def plus(*durations: Duration) -> Duration:
    return Duration(sum(d.ms for d in durations))


def ceil_to(d: Duration, step: Duration) -> Duration:
    return Duration(math.ceil(d.ms / step.ms) * step.ms)


def expected_alert(rule: AlertRule, value: float, series_labels: dict[str, str]) -> dict:
    labels = {**series_labels, **dict(rule.labels)}
    return {"exp_labels": dict(sorted(labels.items())),
            "exp_annotations": {k: expand(v, value, labels) for k, v in rule.annotations}}


def _series_list(series: dict[str, str]) -> list[dict]:
    return [{"series": s, "values": v} for s, v in sorted(series.items())]


def threshold_tests(model, svc, alert, rules: list[AlertRule]) -> list[dict]:
    by_severity = {r.severity: r for r in rules if r.name == alert.name}
    metrics = dict(svc.metrics)
    window = max([alert.window, *(c.window for c in alert.also)])
    at = ceil_to(plus(window, alert.for_), STEP)
    steps = int(at / STEP) + 1
    tick = test_step(model)
    early = Duration(alert.for_.ms - tick.ms) if alert.for_ > tick else None
    also_fire = [case_values(c.op, c.threshold, c.unit)[0] for c in alert.also]
    out = []

    def group(title: str, value: Decimal, also_values: list[Decimal], check_early: bool) -> dict:
        main = synthesise(metrics, alert.signal, value, alert.window, STEP, steps)
        extra = [synthesise(metrics, c.signal, v, c.window, STEP, steps) for c, v in zip(alert.also, also_values)]
        also_hold = all(COMPARE[c.op](v, c.threshold) for c, v in zip(alert.also, also_values))
        firing = [by_severity[lv.severity] for lv in alert.levels
                  if also_hold and COMPARE[alert.op](value, lv.threshold)]
        tests = []
        if check_early and early is not None:
            tests.append({"eval_time": str(early), "alertname": alert.name, "exp_alerts": []})
        tests.append({"eval_time": str(at), "alertname": alert.name,
                      "exp_alerts": [expected_alert(r, float(value), main.labels) for r in firing]})
        return {"name": f"{alert.name} {title}", "interval": str(STEP),
                "input_series": _series_list(merge(main, *extra)), "alert_rule_test": tests}

    for lv in alert.levels:
        fire, quiet = case_values(alert.op, lv.threshold, alert.unit)
        thr = threshold_text(lv.threshold, alert.unit)
        out.append(group(f"{lv.severity} fires at {threshold_text(fire, alert.unit)} ({alert.op} {thr})",
                         fire, also_fire, True))
        out.append(group(f"{lv.severity} stays quiet at {threshold_text(quiet, alert.unit)} ({alert.op} {thr})",
                         quiet, also_fire, False))
        for i, c in enumerate(alert.also):
            values = list(also_fire)
            values[i] = case_values(c.op, c.threshold, c.unit)[1]
            out.append(group(f"{lv.severity} stays quiet while {c.signal} is "
                             f"{threshold_text(values[i], c.unit)} ({c.op} {threshold_text(c.threshold, c.unit)})",
                             fire, values, False))
    return out


def absent_labels(selector: str) -> dict[str, str]:
    """The labels absent() gives its result: the selector's equality matchers."""
    _, _, rest = selector.partition("{")
    return {k: v for k, op, v in parse_matchers(rest.rstrip("}")) if op == "="} if rest else {}


def absent_tests(svc, rule: AlertRule) -> list[dict]:
    series = essential_series(svc)
    at = plus(ABSENT_FOR, STEP)
    steps = int(at / STEP) + 1
    expected, seen = [], []
    for s in series:
        labels = absent_labels(s)
        if labels not in seen:
            seen.append(labels)
            expected.append(expected_alert(rule, 1.0, labels))
    present = {selector_series(s): f"1+0x{steps}" for s in series}
    return [
        {"name": f"{rule.name} fires without {', '.join(series)}", "interval": str(STEP), "input_series": [],
         "alert_rule_test": [
             {"eval_time": str(Duration(ABSENT_FOR.ms - STEP.ms)), "alertname": rule.name, "exp_alerts": []},
             {"eval_time": str(at), "alertname": rule.name, "exp_alerts": expected}]},
        {"name": f"{rule.name} stays quiet while the series exist", "interval": str(STEP),
         "input_series": _series_list(present),
         "alert_rule_test": [{"eval_time": str(at), "alertname": rule.name, "exp_alerts": []}]},
    ]


def watchdog_tests(rule: AlertRule) -> list[dict]:
    return [{"name": "Watchdog always fires", "interval": str(STEP), "input_series": [],
             "alert_rule_test": [{"eval_time": str(t), "alertname": rule.name,
                                  "exp_alerts": [expected_alert(rule, 1.0, {})]}
                                 for t in (Duration(0), Duration.parse("1h"))]}]


# --- packing -------------------------------------------------------------------------

_MATCHERS = re.compile(r'\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*\}')


def metric_names(expr: str) -> frozenset[str]:
    """The metric names a PromQL expression reads (label matchers do not change them, so
    expressions that differ only there, e.g. by service, share one parse)."""
    try:
        return _metric_names(_MATCHERS.sub("{}", expr))
    except ValueError:  # the parser refused the emptied matchers: parse it as it is
        return _metric_names(expr)


@functools.lru_cache(maxsize=1024)
def _metric_names(expr: str) -> frozenset[str]:
    found = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            found.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return frozenset(found)


def _end(case: dict) -> int:
    return max(Duration.parse(t["eval_time"]).ms for t in case["alert_rule_test"])


def pack(cases: list[dict], rules: list[AlertRule]) -> list[dict]:
    """Independent cases merged into shared test groups.

    promtool evaluates every rule of the file at every step of every group, so each
    group costs about the same whatever it asserts. Two cases are independent when
    neither's input series is a metric the other's alert reads (or it feeds) and they
    test different alerts: merged, each alert sees exactly the series it saw alone, and
    each `alert_rule_test` still lists every alert of its name at its time. Longest
    cases first, each into the first group it is independent of (first-fit decreasing).
    """
    reads: dict[str, frozenset[str]] = {}
    for r in rules:
        reads[r.name] = reads.get(r.name, frozenset()) | metric_names(r.expr)
    packed: list[tuple[dict, set[str], set[str]]] = []
    for case in sorted(cases, key=_end, reverse=True):
        names = {t["alertname"] for t in case["alert_rule_test"]}
        touched = {s["series"].partition("{")[0] for s in case["input_series"]}
        touched |= {m for n in names for m in reads.get(n, ())}
        home = next((p for p in packed if not (p[1] & touched or p[2] & names)
                     and p[0]["interval"] == case["interval"]), None)
        if home is None:
            packed.append(({**case, "input_series": list(case["input_series"]),
                            "alert_rule_test": list(case["alert_rule_test"])}, touched, names))
            continue
        group, seen, tested = home
        group["name"] += f"; {case['name']}"
        group["input_series"] += case["input_series"]
        group["alert_rule_test"] += case["alert_rule_test"]
        seen |= touched
        tested |= names
    return [group for group, _, _ in packed]


# --- files ---------------------------------------------------------------------------

def exact(value: float) -> str:
    """A float the test file must carry bit for bit (promtool 2.42 compares exactly): its
    shortest round-trip text, marked; `test_file` writes it unquoted."""
    return f"@exact:{float(value)!r}"


_EXACT = re.compile(r"'@exact:([^']+)'")


def test_file(model, rule_file: str, tests: list[dict], groups: list[dict], step: Duration) -> str:
    """The test file of one rule file, evaluated every `step`. Groups are evaluated in file
    order (promtool's default is by name), so the alerts read the SLIs recorded at the same
    evaluation."""
    order = [g["name"] for g in groups]
    doc = {"rule_files": [f"../rules/{rule_file}"],
           "evaluation_interval": str(step),
           "group_eval_order": order,
           "tests": tests}
    return _EXACT.sub(r"\1", yaml_text(doc, header=generated_header(model.source)))

