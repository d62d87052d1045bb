"""Per-service dashboards: one SLO dashboard per service with SLOs, one RED dashboard
(rate, errors, duration) per HTTP-like service."""
from __future__ import annotations

from decimal import Decimal

from ..emit import fmt_number
from . import recorded as R
from .panels import (UP_STEPS, Query, Step, add_level, alert_steps, dashboard_path, rate, selector, signal, steps_from,
                     stat, timeseries, up_mappings)
from .sections import Row
from .sections.overview import client_error_ratio, latency_steps

INSTANCE_VARIABLE = "instance"
INSTANCE_FILTER = (("instance", "=~", f"${INSTANCE_VARIABLE}"),)
QUANTILES = (Decimal("0.5"), Decimal("0.95"), Decimal("0.99"))


def burn_steps(model, slo) -> list[Step]:
    """Each alert tier's burn-rate factor as a threshold, coloured by the tier's severity."""
    levels: dict[Decimal, tuple[int, str]] = {}
    for t in slo.tiers:
        add_level(model, levels, t.factor, t.severity)
    return steps_from(levels)


def _tiers_text(slo) -> str:
    return "; ".join(f"{t.name} {fmt_number(t.factor)}x over {t.long} and {t.short} ({t.severity})"
                     for t in slo.tiers)


def slo_rows(model, svc) -> list[Row]:
    rows = []
    for o in svc.slos:
        if o.type == "average":
            rows.append(average_row(o))
            continue
        objective = fmt_number(o.objective_percent)
        budget = [Step(None, "red"), Step(0, "green")]
        panels = [
            stat("Objective", f"{o.description or o.name}: the share of good events the SLO promises "
                 f"over {o.window}.", "percentunit", [Query(R.objective(o))], decimals=3, graph=False),
            stat(f"SLI over {o.window}", f"Good events over the last {o.window}; red below the {objective}% "
                 "objective.", "percentunit", [Query(f"1 - {R.sli_error(o, o.window)}")], decimals=3,
                 steps=[Step(None, "red"), Step(o.objective, "green")]),
            stat("Error budget left", f"Share of the {o.window} error budget still unspent.", "percentunit",
                 [Query(R.budget_remaining(o))], decimals=1, steps=budget),
            stat("Burn rate now", "How many times faster than sustainable the budget burns now. Colours: the "
                 "alert tiers' factors.", "short", [Query(R.current_burn_rate(o))], decimals=2,
                 steps=burn_steps(model, o)),
            timeseries(
                "SLI per window", f"Share of good events over each window the burn-rate alerts evaluate, "
                f"against the {objective}% objective.", "percentunit",
                [Query(f"1 - {R.sli_error(o, w)}", f"{w}") for w in R.windows(o)]
                + [Query(R.objective(o), "objective")], decimals=3),
            timeseries(
                "Error budget burn-down", f"Share of the {o.window} error budget left; below zero the SLO is "
                "broken.", "percentunit", [Query(R.budget_remaining(o), "budget left")], steps=budget),
            timeseries(
                "Burn rate per alert window", "Budget burn rate over each alert tier's long and short window. "
                f"Dashed lines: the tiers' factors ({_tiers_text(o)}).", "short",
                [Query(R.burn_rate(o, w), f"{w}") for w in R.windows(o) if w != o.window]
                + [Query(R.period_burn_rate(o), f"{o.window} (period)")], steps=burn_steps(model, o), width=24),
            timeseries(
                "Event rate per alert window", "Events per second over each alert tier's long window. Below the "
                f"dashed line ({fmt_number(o.min_request_rate)}/s) the burn-rate alerts stay quiet: too little "
                "traffic to judge.", "ops", [Query(R.sli_total(o, w), f"{w}") for w in R.long_windows(o)],
                steps=[Step(None, "orange"), Step(o.min_request_rate, "green")], width=24, min_value=0),
        ]
        rows.append(Row(f"{o.name}: {o.description or o.type}", panels))
    return rows


def average_row(o) -> Row:
    """An `average` SLO (e.g. block time): the mean over its window against its ceiling."""
    ceiling = f"{fmt_number(o.threshold)}s" if o.threshold is not None else "its threshold"
    steps = [Step(None, "green"), Step(o.threshold, "red")] if o.threshold is not None else []
    return Row(f"{o.name}: {o.description or o.type}", [
        stat(f"Average over {o.window}", f"Mean over the last {o.window}; red above the {ceiling} ceiling.", "s",
             [Query(R.sli_average(o, o.window))], decimals=3, steps=steps, width=8, height=8),
        timeseries(f"Average over {o.window}", f"Mean over the last {o.window}, as the SLO alert evaluates it, "
                   f"against the {ceiling} ceiling.", "s",
                   [Query(R.sli_average(o, o.window), f"{o.window}"), Query(R.objective_seconds(o), "ceiling")],
                   steps=steps, width=16, min_value=0),
    ])


def red_rows(model, svc) -> list[Row]:
    f = INSTANCE_FILTER
    health = []
    if svc.metric("up"):
        health.append(stat("Up", "1 while at least one selected instance is scraped.", "none",
                           [Query(signal(svc, "up", f))], steps=UP_STEPS, mappings=up_mappings(), graph=False))
    if svc.metric("probe"):
        health.append(stat("Health check", "1 while every blackbox health check succeeds.", "none",
                           [Query(signal(svc, "probe_success", f))], steps=UP_STEPS, mappings=up_mappings(),
                           graph=False))
    rows = [Row("Health", health)] if health else []
    if svc.metric("requests"):
        rows.append(Row("Rate", [
            timeseries("Request rate by status code", "Requests per second, by HTTP status code.", "reqps",
                       [Query(rate(selector(svc, "requests", extra=f), "code"), "{{code}}")], stack=True,
                       width=16, min_value=0),
            stat("Request rate", "Requests per second, all status codes.", "reqps",
                 [Query(rate(selector(svc, "requests", extra=f)))], width=8, height=8),
        ]))
        rows.append(Row("Errors", [
            timeseries("5xx error ratio", "Share of requests answered with a server error. Dashed lines: the "
                       "error-rate alert thresholds.", "percentunit", [Query(signal(svc, "error_ratio", f), "5xx")],
                       steps=alert_steps(model, [svc], "error_ratio"), width=8, min_value=0),
            timeseries("503 ratio", "Share of requests answered with 503 Service Unavailable.", "percentunit",
                       [Query(signal(svc, "unavailable_ratio", f), "503")],
                       steps=alert_steps(model, [svc], "unavailable_ratio"), width=8, min_value=0),
            timeseries("4xx error ratio", "Share of requests answered with a client error.", "percentunit",
                       [Query(client_error_ratio(svc, f), "4xx")], width=8, min_value=0),
        ]))
    if svc.metric("duration"):
        steps, note = latency_steps(model, svc)
        bucket = selector(svc, "duration", suffix="_bucket", extra=f)
        rows.append(Row("Duration", [
            timeseries("Request duration percentiles", f"50th, 95th and 99th percentile request duration. {note}"
                       .strip(), "s",
                       [Query(f"histogram_quantile({fmt_number(q)}, {rate(bucket, 'le')})", f"p{fmt_number(q * 100)}")
                        for q in QUANTILES], steps=steps, width=24, min_value=0),
        ]))
    return rows


def slo_links(model, svc) -> list[tuple[str, str]]:
    return [(f"{svc.name} SLOs", dashboard_path(model.dashboard_uid("slo", svc.id)))] if svc.slos else []
