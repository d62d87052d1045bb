"""The SLO series the Prometheus target records, as the dashboards read them.

SLO panels read only these recording rules (never the raw counters), so a
dashboard shows exactly what the burn-rate alerts evaluate. Every series carries
the labels `service` and `slo` (the SLO id).
"""
from __future__ import annotations

from functools import cache

from ..spec.model import SLO
from ..spec.values import Duration


_text = cache(str)  # a window's text, written for every SLO series of every panel


def _sel(name: str, slo: SLO) -> str:
    return f'{name}{{service="{slo.service}",slo="{slo.id}"}}'


def sli_error(slo: SLO, window: Duration) -> str:
    """Error ratio (bad events over all events) over `window`."""
    return _sel(f"slo:sli_error:ratio_rate{_text(window)}", slo)


def sli_total(slo: SLO, window: Duration) -> str:
    """Events per second over `window` (recorded for each alert tier's long window)."""
    return _sel(f"slo:sli_total:rate{_text(window)}", slo)


def sli_average(slo: SLO, window: Duration) -> str:
    """`average` SLOs: the event-weighted mean (e.g. seconds per block) over `window`."""
    return _sel(f"slo:sli_average:seconds_avg{_text(window)}", slo)


def objective_seconds(slo: SLO) -> str:
    """`average` SLOs: the ceiling the average must stay under."""
    return _sel("slo:objective:seconds", slo)


def objective(slo: SLO) -> str:
    return _sel("slo:objective:ratio", slo)


def error_budget(slo: SLO) -> str:
    return _sel("slo:error_budget:ratio", slo)


def budget_remaining(slo: SLO) -> str:
    """Share of the period's error budget still left (negative once overspent)."""
    return _sel("slo:period_error_budget_remaining:ratio", slo)


def current_burn_rate(slo: SLO) -> str:
    return _sel("slo:current_burn_rate:ratio", slo)


def period_burn_rate(slo: SLO) -> str:
    return _sel("slo:period_burn_rate:ratio", slo)


def burn_rate(slo: SLO, window: Duration) -> str:
    """How many times faster than sustainable the budget burns over `window`."""
    return f"{sli_error(slo, window)} / on(service, slo) {error_budget(slo)}"


def windows(slo: SLO) -> list[Duration]:
    """The SLI windows the alert tiers evaluate, short to long, then the whole period."""
    found = {w for t in slo.tiers for w in (t.short, t.long)}
    return sorted(found) + ([slo.window] if slo.window not in found else [])


def long_windows(slo: SLO) -> list[Duration]:
    return sorted({t.long for t in slo.tiers})
