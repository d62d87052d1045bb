"""SLO rules: recording rules for every SLI window and multi-window, multi-burn-rate alerts.

Recorded series (every one labelled with the SLO's identity, `service` and `slo`):

| series | meaning |
|---|---|
| `slo:sli_error:rate5m`, `slo:sli_total:rate5m` | bad and all events per second over the base window |
| `slo:sli_error:ratio_rate<w>` | bad events over all events, for every window `w` an alert tier reads |
| `slo:sli_total:rate<w>` | events per second over each tier's long window (the low-traffic guard) |
| `slo:sli_error:ratio_rate<period>` | the period SLI, traffic-weighted (below) |
| `slo:objective:ratio`, `slo:error_budget:ratio`, `slo:period:seconds` | the SLO's numbers |
| `slo:current_burn_rate:ratio`, `slo:period_burn_rate:ratio` | error ratio over the base window / over the period, divided by the budget |
| `slo:period_error_budget_remaining:ratio` | 1 - period burn rate (negative once overspent) |

Availability and success-rate SLIs are ratios of event counters; a latency SLI
counts as bad the events above its threshold, `_count - _bucket{le="<threshold>"}`.
The event rates over the base window and each tier's long window are recorded
first in their group; the ratios of those windows divide by the recorded series
(written at the same evaluation) instead of reading the raw counters again.

**The period SLI is traffic-weighted.** It is `sum_over_time` of the recorded bad
event rate over `sum_over_time` of the recorded event rate, i.e. all bad events of
the period over all events. Averaging short-window ratios (Sloth's optimised rule)
would give a quiet night hour the weight of a busy afternoon;
`tests/promtool/diurnal.test.yml` proves the difference on diurnal traffic.

**Burn-rate alerts** follow the SRE workbook (chapter 5): the tiers come from the
model (`SLO.tiers`: 14.4x over 1h and 5m, 6x over 6h and 30m page; 3x over 1d and
2h, 1x over 3d and 6h open a ticket, for a 30-day period; scaled for other
periods). One rule `<Slo>ErrorBudgetBurn` joins the page tiers with `or`, another
the ticket tiers; each tier requires both its windows above `factor x budget`
and at least `min_request_rate` events per second over its long window (the
low-traffic guard). The alert's value is the burn rate over the first matching
tier's long window. `for` is a fifth of the alert's shortest short window
(rounded up to a minute, at least 1m): 1m for the page tiers of a 30-day SLO.

**Average objectives** (`type: average`, e.g. block time under 2 s over 24 h) are
not event ratios: there is no error budget to burn. They become recording rules
for the event-weighted average, `sum_over_time` of the recorded `_sum` rate over
`sum_over_time` of the recorded `_count` rate across the period
(`slo:sli_average:seconds_avg<period>`; `slo:sli_average:seconds_avg5m` for the
base window), and one alert `<Slo>ObjectiveBreached` when the period average is
above the threshold for 5m, at the SLO's `severity` (default: the ticket severity).
"""
from __future__ import annotations

import math

from ..spec.values import Duration
from .rules import AlertRule, annotations_for, labels_for, number, threshold_text

BASE_WINDOW = Duration.parse("5m")
AVERAGE_FOR = Duration.parse("5m")
MINUTE = Duration.parse("1m")


def base_window(model) -> Duration:
    return max(BASE_WINDOW, model.organization.scrape_interval * 4)


def period_interval(model) -> Duration:
    return max(MINUTE, model.organization.evaluation_interval)


def selector(slo) -> str:
    return f'{{service="{slo.service}",slo="{slo.id}"}}'


def identity(slo) -> dict[str, str]:
    return {"service": slo.service, "slo": slo.id}


def _record(name: str, expr: str, slo) -> dict:
    return {"record": name, "expr": expr, "labels": identity(slo)}


def total_rate(slo, w: Duration) -> str:
    return f"sum(rate({slo.total_series}[{w}]))"


def error_rate(slo, w: Duration, total: str | None = None) -> str:
    """Bad events per second over `w`; `total` is the expression of all events per second."""
    total = total or total_rate(slo, w)
    if slo.type == "latency":
        return f"({total} - sum(rate({slo.good_series}[{w}])))"
    # `or`: a service that never failed has no error series at all, yet a 0 error rate
    return f"(sum(rate({slo.error_series}[{w}])) or 0 * {total})"


def ratio_expr(model, slo, w: Duration, recorded: set[Duration]) -> str:
    """Bad over all events over `w`. The event rate of a window recorded earlier in the same
    group (the base window, each tier's long window) is read from its series, written at
    this very evaluation, instead of from the raw counters (twice, with the `or`): the
    same value for a fraction of the samples. The base window's ratio reads both of its
    recorded rates."""
    sel = selector(slo)
    if w == base_window(model):
        return f"sum(slo:sli_error:rate{w}{sel}) / sum(slo:sli_total:rate{w}{sel})"
    total = f"sum(slo:sli_total:rate{w}{sel})" if w in recorded else total_rate(slo, w)
    return f"{error_rate(slo, w, total)} / {total}"


def ratio_windows(model, slo) -> list[Duration]:
    found = {w for t in slo.tiers for w in (t.long, t.short)} | {base_window(model)}
    return sorted(found - {slo.window})


def long_windows(slo) -> list[Duration]:
    return sorted({t.long for t in slo.tiers})


def sli_rules(model, slo) -> list[dict]:
    """Recording rules evaluated at the evaluation interval."""
    base, sel = base_window(model), selector(slo)
    if slo.type == "average":
        return [
            _record(f"slo:sli_sum:rate{base}", f"sum(rate({slo.sum_series}[{base}]))", slo),
            _record(f"slo:sli_count:rate{base}", f"sum(rate({slo.count_series}[{base}]))", slo),
            _record(f"slo:sli_average:seconds_avg{base}",
                    f"slo:sli_sum:rate{base}{sel} / slo:sli_count:rate{base}{sel}", slo),
        ]
    totals = [w for w in long_windows(slo) if w != base]
    out = [_record(f"slo:sli_error:rate{base}", error_rate(slo, base), slo),
           _record(f"slo:sli_total:rate{base}", total_rate(slo, base), slo)]
    out += [_record(f"slo:sli_total:rate{w}", total_rate(slo, w), slo) for w in totals]
    out += [_record(f"slo:sli_error:ratio_rate{w}", ratio_expr(model, slo, w, {base, *totals}), slo)
            for w in ratio_windows(model, slo)]
    out.append(_record("slo:current_burn_rate:ratio",
                       f"slo:sli_error:ratio_rate{base}{sel} / {number(slo.error_budget)}", slo))
    return out


def period_rules(model, slo) -> list[dict]:
    """Recording rules over the whole period (a slower group)."""
    base, sel, p = base_window(model), selector(slo), slo.window
    period = _record("slo:period:seconds", f"vector({int(p.seconds)})", slo)
    if slo.type == "average":
        return [
            _record(f"slo:sli_average:seconds_avg{p}",
                    f"sum_over_time(slo:sli_sum:rate{base}{sel}[{p}]) / "
                    f"sum_over_time(slo:sli_count:rate{base}{sel}[{p}])", slo),
            _record("slo:objective:seconds", f"vector({number(slo.threshold)})", slo),
            period,
        ]
    budget = number(slo.error_budget)
    return [
        _record(f"slo:sli_error:ratio_rate{p}",
                f"sum_over_time(slo:sli_error:rate{base}{sel}[{p}]) / "
                f"sum_over_time(slo:sli_total:rate{base}{sel}[{p}])", slo),
        _record("slo:objective:ratio", f"vector({number(slo.objective)})", slo),
        _record("slo:error_budget:ratio", f"vector({budget})", slo),
        period,
        _record("slo:period_burn_rate:ratio", f"slo:sli_error:ratio_rate{p}{sel} / {budget}", slo),
        _record("slo:period_error_budget_remaining:ratio", f"1 - slo:period_burn_rate:ratio{sel}", slo),
    ]


def burn_for(tiers) -> Duration:
    shortest = min(t.short for t in tiers)
    minutes = max(1, math.ceil(shortest.ms / 5 / MINUTE.ms))
    return MINUTE * minutes


def tier_condition(slo, tier) -> str:
    sel, budget, f = selector(slo), number(slo.error_budget), number(tier.factor)
    return (f"slo:sli_error:ratio_rate{tier.long}{sel} / {budget} > {f}\n"
            f"and slo:sli_error:ratio_rate{tier.short}{sel} / {budget} > {f}\n"
            f"and slo:sli_total:rate{tier.long}{sel} >= {number(slo.min_request_rate)}")


def burn_expr(slo, tiers) -> str:
    blocks = ["(\n" + "\n".join("  " + line for line in tier_condition(slo, t).splitlines()) + "\n)"
              for t in tiers]
    return "\nor\n".join(blocks) + "\n"


def tiers_text(tiers) -> str:
    return " or ".join(f"{number(t.factor)}x over {t.long} and {t.short}" for t in tiers)


def slo_title(svc, slo) -> str:
    return f"{svc.name} {slo.id.replace('-', ' ')} SLO"


def burn_alerts(model, svc, slo) -> list[AlertRule]:
    name = f"{slo.name}ErrorBudgetBurn"
    out = []
    for burn, pace in (("page", " fast"), ("ticket", "")):
        tiers = [t for t in slo.tiers if t.alert == burn]
        if not tiers:
            continue
        budget = threshold_text(slo.error_budget, "ratio")
        description = (
            f"{slo_title(svc, slo)} ({number(slo.objective_percent)}% over {slo.window}): the error budget "
            f"({budget} of events) burns at {{{{ $value | humanize }}}}x the sustainable rate; "
            f"this alert needs {tiers_text(tiers)}, with at least "
            f"{number(slo.min_request_rate)} events/s over the long window.")
        out.append(AlertRule(
            name, burn_expr(slo, tiers), burn_for(tiers),
            labels_for(model, svc.id, svc.team, tiers[0].severity, "error_budget_burn", slo=slo.id, burn=burn),
            annotations_for(model, svc.id, name,
                            f"The {slo_title(svc, slo)} is burning its error budget{pace}.", description),
            svc.id, "burn", f"burn rate {tiers_text(tiers)} (at least {number(slo.min_request_rate)} events/s)",
            slo.pos))
    return out


def average_alert(model, svc, slo) -> AlertRule:
    name = f"{slo.name}ObjectiveBreached"
    limit = threshold_text(slo.threshold, "seconds")
    return AlertRule(
        name, f"slo:sli_average:seconds_avg{slo.window}{selector(slo)} > {number(slo.threshold)}", AVERAGE_FOR,
        labels_for(model, svc.id, svc.team, slo.severity, "slo_average", slo=slo.id),
        annotations_for(model, svc.id, name, f"The {slo_title(svc, slo)} objective is breached.",
                        f"{slo_title(svc, slo)}: the average over {slo.window} is "
                        f"{{{{ $value | humanizeDuration }}}}, above the objective of {limit}."),
        svc.id, "average", f"average over {slo.window} > {limit}", slo.pos, "seconds")


def slo_alerts(model, svc, slo) -> list[AlertRule]:
    return [average_alert(model, svc, slo)] if slo.type == "average" else burn_alerts(model, svc, slo)
