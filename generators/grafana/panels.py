"""Panel building blocks on grafana-foundation-sdk: queries, thresholds, panel types.

Every panel gets a unit and a description and reads the `datasource` variable.
Queries that take a rate use Grafana's `$__rate_interval` instead of the signal's
fixed window, so a panel stays right at any zoom level.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from decimal import Decimal

# The classic dashboard JSON model is the one Grafana's file provisioning and the
# reference schema describe; the SDK warns on it in favour of its v2 resources.
V2_NOTICE = "Prefer using dashboardv2"
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=V2_NOTICE, category=DeprecationWarning)
    from grafana_foundation_sdk.builders import common as cb
    from grafana_foundation_sdk.builders import dashboard as db
    from grafana_foundation_sdk.builders import prometheus as prom
    from grafana_foundation_sdk.builders import stat as statb
    from grafana_foundation_sdk.builders import table as tableb
    from grafana_foundation_sdk.builders import timeseries as tsb
    from grafana_foundation_sdk.models import common as cm
    from grafana_foundation_sdk.models import dashboard as dm
    from grafana_foundation_sdk.models import prometheus as pm
    from grafana_foundation_sdk.cog.encoder import JSONEncoder

from ..spec import kinds as K
from ..spec.model import Service, render_signal
from ..spec.values import Metric
from .template import Panel, shape_of

DATASOURCE = cm.DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE_INTERVAL = "$__rate_interval"

# Threshold colours: the base colour, then one per severity rank (0 is the most severe).
OK_COLOR = "green"
SEVERITY_COLORS = ("red", "orange", "yellow", "blue", "purple")

UNITS = {K.RATIO: "percentunit", K.SECONDS: "s", K.COUNT: "short", K.PER_SECOND: "ops", K.BOOL: "bool"}


class _Window:
    """Stands in for a Duration where a signal's template writes its window."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text


RATE = _Window(RATE_INTERVAL)


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False


@dataclass(frozen=True)
class Step:
    """A threshold step: from `value` up (None: from minus infinity) the panel shows `color`."""

    value: Decimal | None
    color: str


def severity_color(model, severity: str) -> str:
    sev = model.severity(severity)
    rank = sev.rank if sev else len(SEVERITY_COLORS) - 1
    return SEVERITY_COLORS[min(rank, len(SEVERITY_COLORS) - 1)]


# --- PromQL -------------------------------------------------------------------------

def metrics_filtered(service: Service, extra: tuple[tuple[str, str, str], ...] = ()) -> dict[str, Metric]:
    """The service's metrics, with `extra` matchers added to those that use the service's
    own selector (a metric with its own matchers, such as a blackbox probe, keeps them)."""
    return {k: Metric(m.name, m.matchers + extra) if extra and m.matchers == service.selector else m
            for k, m in service.metrics}


def signal(service: Service, name: str, extra=(), window=RATE) -> str:
    """The PromQL of a signal of `service`, over `$__rate_interval` unless told otherwise."""
    return render_signal(K.SIGNALS[name], metrics_filtered(service, extra), window)


def selector(service: Service, key: str, matchers: str = "", suffix: str = "", extra=()) -> str:
    return metrics_filtered(service, extra)[key].selector(matchers, suffix)


def rate(sel: str, by: str = "") -> str:
    inner = f"rate({sel}[{RATE_INTERVAL}])"
    return f"sum by ({by}) ({inner})" if by else f"sum({inner})"


# --- thresholds ---------------------------------------------------------------------

def alert_steps(model, services, signal_name: str) -> list[Step]:
    """Threshold steps from the alerts on `signal_name` of `services`: each level's
    threshold coloured by its severity. `<` alerts colour downwards (below the
    threshold is bad), `>` alerts upwards."""
    levels: dict[Decimal, tuple[int, str]] = {}
    below = False
    for svc in services:
        for alert in svc.alerts:
            if alert.signal != signal_name:
                continue
            below = alert.op in ("<", "<=")
            for lv in alert.levels:
                add_level(model, levels, lv.threshold, lv.severity)
    return steps_from(levels, below)


def add_level(model, levels: dict[Decimal, tuple[int, str]], value: Decimal, severity: str) -> None:
    """Note a threshold at `value`; where two severities share a value, the more severe wins."""
    sev = model.severity(severity)
    rank = sev.rank if sev else len(SEVERITY_COLORS)
    if value not in levels or rank < levels[value][0]:
        levels[value] = (rank, severity_color(model, severity))


def steps_from(levels: dict[Decimal, tuple[int, str]], below: bool = False) -> list[Step]:
    """Steps from {value: (rank, colour)}: upwards from OK_COLOR, or downwards to it if `below`."""
    if not levels:
        return []
    values = sorted(levels)
    if not below:
        return [Step(None, OK_COLOR)] + [Step(v, levels[v][1]) for v in values]
    # below the lowest threshold: its colour; between thresholds: the next one's; above: ok
    out = [Step(None, levels[values[0]][1])]
    out += [Step(v, levels[nxt][1]) for v, nxt in zip(values, values[1:])]
    return out + [Step(values[-1], OK_COLOR)]


def _thresholds(steps: list[Step]) -> db.ThresholdsConfig:
    return db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(
        [dm.Threshold(value=None if s.value is None else float(s.value), color=s.color) for s in steps])


# --- panels -------------------------------------------------------------------------

def _ref_id(i: int) -> str:
    """A, B, ..., Z, AA, AB, ...: past 26 queries chr(ord("A") + i) gave "[", "\\x7f", ..."""
    out, i = "", i + 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(ord("A") + r) + out
    return out


def _query_strings(queries) -> list[str]:
    return [s for q in queries for s in ((q.expr, q.legend) if q.legend else (q.expr,))]


def _targets(queries, s):
    """SDK queries, their expression and legend read from the strings `s`."""
    out = []
    for i, q in enumerate(queries):
        t = prom.Dataquery().expr(next(s)).ref_id(_ref_id(i)).datasource(DATASOURCE)
        if q.legend:
            t = t.legend_format(next(s))
        if q.instant:
            t = t.instant()
        else:
            t = t.range()
        if q.table:
            t = t.format(pm.PromQueryFormat.TABLE)
        out.append(t)
    return out


def _links(n: int, s):
    out = []
    for _ in range(n):
        title, url = next(s), next(s)
        out.append(db.DashboardLink(title).type(dm.DashboardLinkType.LINK).url(url).keep_time(True)
                   .include_vars(False).target_blank(False).tooltip(title).icon("dashboard"))
    return out


def _typed(x):
    """A key part that tells 0 from 0.0 and False (they are written differently)."""
    return (type(x).__name__, x)


def _panel(kind: str, builder, title: str, description: str, unit: str, queries, width: int, height: int,
           steps, links, decimals, shape: tuple, finish) -> Panel:
    """A panel of SDK type `builder`: the options common to all panels, then `finish(panel)`."""
    queries, steps, links = tuple(queries), tuple(steps), tuple(links)
    strings = (title, description, *_query_strings(queries), *(s for link in links for s in link))
    key = shape_of(kind, strings, unit, tuple((bool(q.legend), q.instant, q.table) for q in queries), width,
                   height, steps,  # equal steps write equal floats
                   len(links), _typed(decimals), *shape)

    def make(s):
        panel = (builder().title(next(s)).description(next(s)).unit(unit).datasource(DATASOURCE)
                 .targets(_targets(queries, s)).span(width).height(height))
        if steps:
            panel = panel.thresholds(_thresholds(list(steps)))
        if links:
            panel = panel.links(_links(len(links), s))
        if decimals is not None:
            panel = panel.decimals(decimals)
        return finish(panel)

    return Panel(kind, key, strings, make, width, height, queries)


def row(title: str) -> Panel:
    """A row (expanded): a title bar across the grid."""
    return Panel("row", shape_of("row", (title,)), (title,), lambda s: db.Row(next(s)).collapsed(False))


def timeseries(title: str, description: str, unit: str, queries: list[Query], *, width: int = 12,
               height: int = 8, steps: list[Step] = (), links=(), decimals=None, min_value=None,
               max_value=None, stack: bool = False) -> Panel:
    """A time series; thresholds (if any) are drawn as dashed lines."""
    def finish(panel):
        panel = (panel.line_width(1).fill_opacity(10).show_points(cm.VisibilityMode.NEVER)
                 .legend(cb.VizLegendOptions().display_mode(cm.LegendDisplayMode.LIST)
                         .placement(cm.LegendPlacement.BOTTOM).show_legend(True))
                 .tooltip(cb.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING)))
        if steps:
            panel = panel.thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphThresholdsStyleMode.DASHED))
        if min_value is not None:
            panel = panel.min(min_value)
        if max_value is not None:
            panel = panel.max(max_value)
        if stack:
            panel = panel.stacking(cb.StackingConfig().mode(cm.StackingMode.NORMAL))
        return panel

    return _panel("timeseries", tsb.Panel, title, description, unit, queries, width, height, steps, links,
                  decimals, (_typed(min_value), _typed(max_value), stack), finish)


def stat(title: str, description: str, unit: str, queries: list[Query], *, width: int = 6,
         height: int = 4, steps: list[Step] = (), links=(), decimals=None, mappings=(), graph: bool = True,
         no_value: str | None = None) -> Panel:
    """A single number (the last value), coloured by its thresholds."""
    def finish(panel):
        panel = (panel.graph_mode(cm.BigValueGraphMode.AREA if graph else cm.BigValueGraphMode.NONE)
                 .color_mode(cm.BigValueColorMode.VALUE if steps else cm.BigValueColorMode.NONE)
                 .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)))
        if mappings:
            panel = panel.mappings(list(mappings))
        if no_value is not None:
            panel = panel.no_value(no_value)
        return panel

    mkey = "up" if mappings is UP_MAPPINGS else json.dumps(list(mappings), cls=JSONEncoder, sort_keys=True)
    return _panel("stat", statb.Panel, title, description, unit, queries, width, height, steps, links,
                  decimals, (mkey, graph, no_value), finish)


def table(title: str, description: str, unit: str, queries: list[Query], *, hide: tuple[str, ...] = (),
          width: int = 24, height: int = 8) -> Panel:
    """A table of instant query results; `hide` names columns not to show."""
    def finish(panel):
        if hide:
            panel = panel.with_transformation(dm.DataTransformerConfig(
                id_val="organize", options={"excludeByName": {name: True for name in hide}}))
        return panel

    return _panel("table", tableb.Panel, title, description, unit, queries, width, height, (), (), None,
                  (tuple(hide),), finish)


def _up_mappings() -> list:
    return [dm.ValueMap(options={
        "0": dm.ValueMappingResult(text="Down", color="red", index=0),
        "1": dm.ValueMappingResult(text="Up", color="green", index=1)})]


UP_MAPPINGS = tuple(_up_mappings())


def up_mappings() -> tuple:
    """0 -> Down (red), 1 -> Up (green)."""
    return UP_MAPPINGS


UP_STEPS = [Step(None, "red"), Step(Decimal(1), OK_COLOR)]


def dashboard_path(uid: str) -> str:
    """A link inside Grafana to the dashboard `uid` (host-relative: works behind any base URL)."""
    return f"/d/{uid}"


def service_link(model, service: Service) -> tuple[str, str]:
    return (f"{service.name} dashboard", dashboard_path(model.service_dashboard_uid(service.id)))
