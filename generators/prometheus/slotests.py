"""Generated promtool tests for SLO rules, with expected values from plain arithmetic.

Per ratio SLO (availability, success rate, latency):

- records: constant traffic (20 events/s, 1 in 512 bad); every recorded series
  is expected at 10m with the value the SLO's definition gives (windows longer
  than the history hold what there is: rate() of a counter that starts at 0 on
  the grid does not extrapolate). Rates are chosen
  as multiples of 10 x 2^-k so that every recorded base-window rate is exact in
  binary floating point: the period SLI's sums then do not depend on how
  Prometheus adds, and promtool 2.42, which compares values exactly, agrees bit
  for bit with the arithmetic here;
- full outage: healthy traffic for the longest page window, then every event
  bad: the page alert fires exactly when the workbook predicts (the long window's
  error ratio passes factor x budget after factor x budget x long window, then
  `for`), and not one evaluation earlier;
- just under 1x budget: nothing fires; slow burn (between the highest ticket
  factor and the lowest page factor): the ticket alert only;
- low traffic: a full outage below `min_request_rate` events/s pages no one.

Which rule fires when, and with what value, comes from `Simulation`: counters
on the evaluation grid and the tier conditions written out in Python.
Average SLOs get a firing, a quiet and a recording case.

The tests evaluate every minute (`testgen.test_step`): the outage of a 95% latency
SLO takes 1h44m to page, 104 steps at 1m instead of 208 at 30s.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ..emit import fmt_number
from ..spec.values import Duration, parse_matchers
from .rules import AlertRule
from .slo import base_window, burn_for, long_windows, ratio_windows, selector
from .synth import CANDIDATES, concrete_labels, satisfies, selector_series, series_text
from .testgen import ceil_to, exact, expected_alert, plus, test_step

RECORD_AT = Duration.parse("10m")
TRAFFIC = 10                      # events per second in the alert cases


def prom_rate(increase: Fraction, w: Duration) -> float:
    """rate() of a counter sampled on the grid from 0: no extrapolation, so Prometheus
    multiplies the increase by (1 / range seconds), in that order."""
    return float(increase) * (1.0 / (w.ms / 1000))


def kahan_sum(values) -> float:
    """sum_over_time() as Prometheus adds: Kahan-Neumaier compensated summation."""
    total = c = 0.0
    for v in values:
        t = total + v
        c += (total - t) + v if abs(total) >= abs(v) else (v - t) + total
        total = t
    return total + c


def _split(selector_text: str):
    name, _, rest = selector_text.partition("{")
    return name, parse_matchers(rest.rstrip("}")) if rest else ()


def good_series(slo) -> str:
    """A series of the SLI's total that is not an error (fails the first error-only matcher)."""
    name, total = _split(slo.total_series)
    _, errors = _split(slo.error_series)
    extra = [m for m in errors if m not in total]
    labels = concrete_labels(total + tuple(extra[1:]))
    lname, op, pattern = extra[0]
    labels[lname] = next(c for c in CANDIDATES if not satisfies(op, pattern, c))
    return series_text(name, labels)


def counter_values(increments: list[tuple[Fraction, int]]) -> str:
    """Promtool notation of a counter from 0 growing by `d` per step for `n` steps, segment by segment."""
    return _counter_values(tuple(increments))


@functools.lru_cache(maxsize=256)
def _counter_values(increments: tuple) -> str:
    parts, value = [], Fraction(0)
    for i, (d, n) in enumerate(increments):
        if i == 0:
            parts.append(f"0+{fmt_number(float(d))}x{n}")
        else:
            parts.append(f"{fmt_number(float(value + d))}+{fmt_number(float(d))}x{n - 1}")
        value += d * n
    return " ".join(parts)


@dataclass
class Traffic:
    """Per evaluation step: events and bad events (piecewise constant)."""

    step: Duration
    segments: list[tuple[Fraction, Fraction, int]]    # (events/step, bad/step, steps)

    @property
    def steps(self) -> int:
        return sum(n for _, _, n in self.segments)

    def counters(self) -> tuple[tuple[Fraction, ...], tuple[Fraction, ...]]:
        return _counters(tuple(self.segments))

    def series(self, slo) -> dict[str, str]:
        bad = counter_values([(b, n) for _, b, n in self.segments])
        good = counter_values([(t - b, n) for t, b, n in self.segments])
        total = counter_values([(t, n) for t, _, n in self.segments])
        if slo.type == "latency":
            return {selector_series(slo.total_series): total, selector_series(slo.good_series): good}
        return {selector_series(slo.error_series): bad, good_series(slo): good}


@functools.lru_cache(maxsize=64)
def _counters(segments: tuple) -> tuple[tuple[Fraction, ...], tuple[Fraction, ...]]:
    """Total and bad counters per step. Cached: every SLO with the same numbers has the same
    traffic, and recomputing it per service was a third of generate time at 1000 services."""
    total, bad = [Fraction(0)], [Fraction(0)]
    for t, b, n in segments:
        for _ in range(n):
            total.append(total[-1] + t)
            bad.append(bad[-1] + b)
    return tuple(total), tuple(bad)


def simulation(slo, traffic: Traffic) -> "Simulation":
    """The simulation of `slo` under `traffic`, shared by every SLO with the same numbers
    (at a thousand services, a handful of distinct SLOs)."""
    return _simulation(Fraction(slo.error_budget), Fraction(slo.min_request_rate), traffic.step,
                       tuple(traffic.segments))


@functools.lru_cache(maxsize=256)
def _simulation(budget: Fraction, min_rate: Fraction, step: Duration, segments: tuple) -> "Simulation":
    return Simulation(budget, min_rate, Traffic(step, list(segments)))


class Simulation:
    """The burn-rate rules of one SLO, evaluated by hand on the evaluation grid."""

    def __init__(self, budget: Fraction, min_rate: Fraction, traffic: Traffic):
        self.budget, self.min_rate, self.t = budget, min_rate, traffic
        self.total, self.bad = traffic.counters()
        self._values: dict[tuple, Fraction | None] = {}

    def _inc(self, counter, k: int, w: Duration) -> Fraction:
        return counter[k] - counter[max(0, k - int(w / self.t.step))]

    def ratio(self, k: int, w: Duration):
        total = self._inc(self.total, k, w)
        return None if k < 1 or total == 0 else self._inc(self.bad, k, w) / total

    def tier_holds(self, tier, k: int) -> Fraction | None:
        budget = self.budget
        long, short = self.ratio(k, tier.long), self.ratio(k, tier.short)
        rate = self._inc(self.total, k, tier.long) / Fraction(tier.long.ms, 1000)
        if long is None or short is None or rate < self.min_rate:
            return None
        f = Fraction(tier.factor)
        return long / budget if long / budget > f and short / budget > f else None

    def value(self, tiers, k: int, key: tuple | None = None):
        key = (key or tuple(tiers), k)
        if key not in self._values:
            self._values[key] = next((v for v in (self.tier_holds(t, k) for t in tiers) if v is not None), None)
        return self._values[key]

    def firing(self, tiers, k: int):
        """The alert's value if it fires at step k (condition held for `for`), else None."""
        key = tuple(tiers)
        hold = int(burn_for(tiers) / self.t.step)
        if k < hold or any(self.value(tiers, j, key) is None for j in range(k - hold, k + 1)):
            return None
        return self.value(tiers, k, key)


def first_firing(sim: Simulation, tiers, limit: int) -> int | None:
    """The first step at which the alert of `tiers` fires, within `limit` steps."""
    hold, run = int(burn_for(tiers) / sim.t.step), 0
    for k in range(limit + 1):
        run = run + 1 if sim.value(tiers, k) is not None else 0
        if run > hold:
            return k
    return None


def _tiers(slo, burn):
    return [t for t in slo.tiers if t.alert == burn]


@dataclass(frozen=True)
class Numbers:
    """What an SLO's burn-rate cases depend on (its names aside)."""

    error_budget: Decimal
    min_request_rate: Decimal
    tiers: tuple


@dataclass
class BurnCase:
    title: str
    traffic: Traffic
    expected: list[tuple[int, list[tuple[str, Fraction]]]]   # (step, [(burn, alert value)])


def burn_case(slo, burns: tuple[str, ...], title: str, traffic: Traffic, checks: list[int]) -> BurnCase:
    sim = simulation(slo, traffic)
    expected = []
    for k in checks:
        values = [(burn, sim.firing(_tiers(slo, burn), k)) for burn in ("page", "ticket") if burn in burns]
        expected.append((k, [(burn, v) for burn, v in values if v is not None]))
    return BurnCase(title, traffic, expected)


def _ratio_traffic(step: Duration, ratio: Fraction, rate: Fraction, steps: int) -> Traffic:
    per_step = rate * Fraction(step.ms, 1000)
    return Traffic(step, [(per_step, per_step * ratio, steps)])


def outage_case(slo, burns, step: Duration, page) -> BurnCase:
    """Every event fails after healthy traffic over the fastest page tier's long window.

    Workbook: the long window's error ratio passes factor x budget after
    factor x budget x long window; the alert fires `for` later (on the evaluation
    grid). Slower tiers, whose windows still hold little history, may page sooner,
    never later; the test expects nothing at the onset, nothing one evaluation
    before the simulated first page, the page then, and still at the workbook time.
    """
    budget = Fraction(slo.error_budget)
    fastest = min(page, key=lambda t: Fraction(t.factor) * budget * Fraction(t.long.ms, 1000))
    detect = Fraction(fastest.factor) * budget * Fraction(fastest.long.ms, 1000)
    before = int(fastest.long / step)
    workbook_k = before + math.floor(detect / Fraction(step.ms, 1000)) + 1 + int(burn_for(page) / step)
    per_step = TRAFFIC * Fraction(step.ms, 1000)
    traffic = Traffic(step, [(per_step, Fraction(0), before), (per_step, per_step, workbook_k - before)])
    sim = simulation(slo, traffic)
    first_k = next((k for k in range(before, workbook_k + 1) if sim.firing(page, k) is not None), None)
    if first_k is None:
        raise ValueError("a full outage would not page within the workbook's detection time")
    checks = sorted({before, first_k - 1, first_k, workbook_k})
    return burn_case(slo, burns, f"full outage pages within {fmt_number(float(detect))}s + for "
                     f"{burn_for(page)} (workbook, {fastest.name})", traffic, checks)


def steady_traffic(slo, step: Duration) -> Fraction:
    """Events per second (a power of ten, at least TRAFFIC) at which the rate over the longest
    long window passes `min_request_rate` after one step of history."""
    longest = max(t.long for t in slo.tiers)
    needed = Fraction(slo.min_request_rate) * Fraction(longest.ms, step.ms)
    rate = Fraction(TRAFFIC)
    while rate < needed:
        rate *= 10
    return rate


@functools.lru_cache(maxsize=256)
def burn_plan(slo: Numbers, step: Duration, burns: tuple[str, ...]) -> tuple[BurnCase, ...]:
    """The burn-rate cases of every SLO with these numbers (a handful at a thousand services)."""
    budget = Fraction(slo.error_budget)
    out = []
    page, ticket = _tiers(slo, "page"), _tiers(slo, "ticket")
    if page:
        out.append(outage_case(slo, burns, step, page))
    # Constant burns from the first sample, at a traffic that passes every tier's low-traffic
    # guard from the first step (the long windows' event rate builds up with the history),
    # so every tier's factor is what holds the alert back; the horizon is when the slow
    # burn's ticket fires, and at least every `for` plus a minute.
    horizon = plus(max(burn_for(page or ticket), burn_for(ticket or page)), Duration.parse("1m"))
    n = int(horizon / step)
    steady = steady_traffic(slo, step)
    slow = None
    if ticket and page:
        k = (max(Fraction(t.factor) for t in ticket) + min(Fraction(t.factor) for t in page)) / 2
        slow = (k, min(budget * k, Fraction(1)))
        limit = int(max(t.long for t in ticket) / step)
        first = first_firing(simulation(slo, _ratio_traffic(step, slow[1], steady, limit)), ticket, limit)
        if first is None:
            raise ValueError(f"a slow burn at {float(k)}x would never open a ticket")
        n = max(n, first + int(Duration.parse("1m") / step))
    out.append(burn_case(slo, burns, "at 0.99x the budget rate fires nothing",
                         _ratio_traffic(step, budget * Fraction(99, 100), steady, n + 1), [n]))
    if slow:
        out.append(burn_case(slo, burns, f"slow burn at {fmt_number(float(slow[0]))}x opens a ticket only",
                             _ratio_traffic(step, slow[1], steady, n + 1), [n]))
    low = Fraction(slo.min_request_rate) / 2
    out.append(burn_case(slo, burns, f"full outage at {fmt_number(float(low))} events/s pages no one",
                         _ratio_traffic(step, Fraction(1), low, n + 1), [n]))
    return tuple(out)


def burn_tests(model, slo, rules: dict[str, AlertRule]) -> list[dict]:
    """The burn-rate test groups of one SLO: its numbers' plan, with its names."""
    try:
        plan = burn_plan(Numbers(slo.error_budget, slo.min_request_rate, slo.tiers), test_step(model),
                         tuple(sorted(rules)))
    except ValueError as exc:
        raise ValueError(f"{slo.name}: {exc}") from None
    ident = {"service": slo.service, "slo": slo.id}
    out = []
    for case in plan:
        tests = [{"eval_time": str(case.traffic.step * k), "alertname": f"{slo.name}ErrorBudgetBurn",
                  "exp_alerts": [expected_alert(rules[burn], float(v), ident) for burn, v in firing]}
                 for k, firing in case.expected]
        out.append({"name": f"{slo.name} {case.title}", "interval": str(case.traffic.step),
                    "input_series": [{"series": s, "values": v} for s, v in sorted(case.traffic.series(slo).items())],
                    "alert_rule_test": tests})
    return out


# --- recording rules ------------------------------------------------------------------

def _sample(name: str, slo, value) -> dict:
    return {"expr": f"{name}{selector(slo)}", "eval_time": str(RECORD_AT),
            "exp_samples": [{"labels": f"{name}{selector(slo)}", "value": exact(value)}]}


RATE_BAD, RATE_GOOD = Fraction(10, 256), Fraction(10 * 511, 256)      # 20 events/s, 1 in 512 bad


@functools.lru_cache(maxsize=1024)
def _record_rates(latency: bool, step: Duration, k: int, w: Duration) -> tuple[float, float]:
    """(bad, all) per second over w at step k of the recording case's traffic, computed as
    PromQL does for these series (a latency SLI's bad events are all minus good)."""
    span, s = min(k, int(w / step)), Fraction(step.ms, 1000)
    bad, good = prom_rate(RATE_BAD * span * s, w), prom_rate(RATE_GOOD * span * s, w)
    if latency:
        total = prom_rate((RATE_BAD + RATE_GOOD) * span * s, w)
        return total - good, total
    return bad, good + bad


def record_tests(model, slo) -> dict:
    step = test_step(model)
    n = int(RECORD_AT / step)
    per_step = Fraction(step.ms, 1000)
    traffic = Traffic(step, [((RATE_BAD + RATE_GOOD) * per_step, RATE_BAD * per_step, n)])

    def rates(k: int, w: Duration) -> tuple[float, float]:
        return _record_rates(slo.type == "latency", step, k, w)

    base = base_window(model)
    tests = []
    bad5, all5 = rates(n, base)
    tests += [_sample(f"slo:sli_error:rate{base}", slo, bad5), _sample(f"slo:sli_total:rate{base}", slo, all5)]
    for w in ratio_windows(model, slo):
        b, a = rates(n, w)
        tests.append(_sample(f"slo:sli_error:ratio_rate{w}", slo, b / a))
    for w in long_windows(slo):
        if w != base:
            tests.append(_sample(f"slo:sli_total:rate{w}", slo, rates(n, w)[1]))
    budget = float(slo.error_budget)
    tests.append(_sample("slo:current_burn_rate:ratio", slo, (bad5 / all5) / budget))
    sums = [rates(k, base) for k in range(1, n + 1)]
    period = kahan_sum(b for b, _ in sums) / kahan_sum(a for _, a in sums)
    tests += [_sample(f"slo:sli_error:ratio_rate{slo.window}", slo, period),
              _sample("slo:objective:ratio", slo, float(slo.objective)),
              _sample("slo:error_budget:ratio", slo, budget),
              _sample("slo:period:seconds", slo, slo.window.ms / 1000),
              _sample("slo:period_burn_rate:ratio", slo, period / budget),
              _sample("slo:period_error_budget_remaining:ratio", slo, 1 - period / budget)]
    return {"name": f"{slo.name} recording rules at 20 events/s, 1 in 512 bad", "interval": str(step),
            "input_series": [{"series": x, "values": v} for x, v in sorted(traffic.series(slo).items())],
            "promql_expr_test": tests}


# --- average objectives ---------------------------------------------------------------

def average_tests(model, slo, rule: AlertRule) -> list[dict]:
    step = test_step(model)
    at = ceil_to(plus(rule.for_, Duration.parse("1m")), step)
    n = int(at / step)
    count_rate = Fraction(10, 16)                                   # observations per second

    def series(avg: Fraction, steps: int) -> list[dict]:
        per = count_rate * Fraction(step.ms, 1000)
        return [{"series": selector_series(slo.count_series), "values": counter_values([(per, steps)])},
                {"series": selector_series(slo.sum_series), "values": counter_values([(per * avg, steps)])}]

    thr = Fraction(slo.threshold)
    fire, quiet = thr * Fraction(11, 10), thr * Fraction(9, 10)
    ident = {"service": slo.service, "slo": slo.id}
    name = rule.name
    cases = [
        {"name": f"{name} fires at {fmt_number(float(fire))}s", "interval": str(step), "input_series": series(fire, n),
         "alert_rule_test": [{"eval_time": str(rule.for_), "alertname": name, "exp_alerts": []},
                             {"eval_time": str(at), "alertname": name,
                              "exp_alerts": [expected_alert(rule, float(fire), ident)]}]},
        {"name": f"{name} stays quiet at {fmt_number(float(quiet))}s", "interval": str(step),
         "input_series": series(quiet, n),
         "alert_rule_test": [{"eval_time": str(at), "alertname": name, "exp_alerts": []}]},
    ]
    # Recording: 0.625 blocks/s of 1.5 s each; every base-window rate is exact, so are the sums.
    m = int(RECORD_AT / step)
    avg = Fraction(3, 2)
    base = base_window(model)
    s = Fraction(step.ms, 1000)
    rates = [(prom_rate(count_rate * avg * min(k, int(base / step)) * s, base),
              prom_rate(count_rate * min(k, int(base / step)) * s, base)) for k in range(1, m + 1)]
    sum_now, count_now = rates[-1]
    period = kahan_sum(a for a, _ in rates) / kahan_sum(c for _, c in rates)
    cases.append({
        "name": f"{slo.name} recording rules at 0.625 blocks/s of 1.5s", "interval": str(step),
        "input_series": series(avg, m),
        "promql_expr_test": [
            _sample(f"slo:sli_sum:rate{base}", slo, sum_now), _sample(f"slo:sli_count:rate{base}", slo, count_now),
            _sample(f"slo:sli_average:seconds_avg{base}", slo, sum_now / count_now),
            _sample(f"slo:sli_average:seconds_avg{slo.window}", slo, period),
            _sample("slo:objective:seconds", slo, float(slo.threshold)),
            _sample("slo:period:seconds", slo, slo.window.ms / 1000)]})
    return cases


def slo_tests(model, slo, rules: list[AlertRule]) -> list[dict]:
    """The tests of one SLO, given its alerting rules."""
    if slo.type == "average":
        return average_tests(model, slo, rules[0])
    return [record_tests(model, slo), *burn_tests(model, slo, {r.label("burn"): r for r in rules})]
