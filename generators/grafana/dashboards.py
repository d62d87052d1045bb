"""Assemble whole dashboards: the spec's dashboards (from their sections), one SLO
dashboard per service with SLOs and one RED dashboard per HTTP-like service.

Every dashboard has a stable uid from `model.dashboard_uid(...)`, tags, a
`datasource` variable of type prometheus, the spec's time range and refresh, a
drop-down of all the organisation's dashboards and links between the overview
and the per-service dashboards.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from ..spec.model import Model, stable_id
from ..spec.problems import Position
from ..spec.values import Duration
from .panels import DATASOURCE, V2_NOTICE, dashboard_path, db, dm
from .sections import Row, sections
from .service import INSTANCE_VARIABLE, red_rows, slo_links, slo_rows
from .sections.infrastructure import NODE_VARIABLE

FOLDER_OVERVIEW = "Overview"
FOLDER_SLO = "SLOs"
FOLDER_SERVICES = "Services"
GRID_WIDTH = 24
SLO_REFRESH = Duration.parse("5m")
RED_DEFAULTS = (Duration.parse("30s"), Duration.parse("6h"))  # when the spec has no system-overview


@dataclass(frozen=True)
class Built:
    uid: str
    title: str
    folder: str
    pos: Position            # the spec node the dashboard comes from
    data: dict               # the dashboard JSON model


def grafana_duration(d: Duration) -> str:
    """A duration in the one unit Grafana's time ranges accept (`90m`, not `1h30m`)."""
    for unit, ms in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if d.ms % ms == 0:
            return f"{d.ms // ms}{unit}"
    return f"{max(1, d.ms // 1000)}s"


def org_tag(model: Model) -> str:
    return stable_id(model.organization.name)


def _variables(model: Model, query_vars: list[tuple[str, str, str]]):
    out = [db.DatasourceVariable("datasource").label("Data source").type("prometheus")
           .description("The Prometheus that evaluates the organisation's rules.")]
    for name, label, query in query_vars:
        out.append(db.QueryVariable(name).label(label).datasource(DATASOURCE).query(query).definition(query)
                   .multi(True).include_all(True).all_value(".*").refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
                   .sort(dm.VariableSort.ALPHABETICAL_ASC)
                   .current(dm.VariableOption(selected=True, text="All", value="$__all")))
    return out


def _links(model: Model, extra: list[tuple[str, str]]):
    tag = org_tag(model)
    out = [db.DashboardLink(f"{model.organization.name} dashboards").type(dm.DashboardLinkType.DASHBOARDS)
           .tags([tag]).as_dropdown(True).keep_time(True).include_vars(False).target_blank(False)
           .icon("external link").tooltip("")]
    out += [db.DashboardLink(title).type(dm.DashboardLinkType.LINK).url(url).keep_time(True)
            .include_vars(False).target_blank(False).icon("dashboard").tooltip(title).tags([])
            for title, url in extra]
    return out


def _assemble(model: Model, uid: str, title: str, description: str, tags: list[str], rows: list[Row],
              refresh: Duration, time: Duration, query_vars=(), links=()) -> dict:
    tz = model.organization.timezone
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=V2_NOTICE, category=DeprecationWarning)
        d = db.Dashboard(title)
    d = (d.uid(uid).description(description).tags([org_tag(model), *tags])
         .timezone("utc" if tz.upper() == "UTC" else tz).tooltip(dm.DashboardCursorSync.CROSSHAIR)
         .time(f"now-{grafana_duration(time)}", "now").refresh(grafana_duration(refresh)).readonly()
         .variables(_variables(model, list(query_vars))).links(_links(model, list(links))))
    for row in rows:
        d = d.with_row(db.Row(row.title).collapsed(False))
        for panel in row.panels:
            d = d.with_panel(panel)
    data = json.loads(json.dumps(d.build(), cls=JSONEncoder))
    layout(data.get("panels", []))
    return data


def layout(panels: list[dict]) -> None:
    """Number the panels in order and place them left to right, wrapping at the grid's
    24 columns; each row starts on a line of its own."""
    x = y = line = 0
    for i, panel in enumerate(panels, start=1):
        panel["id"] = i  # stable: the order of rows and panels
        pos = panel["gridPos"]
        if panel["type"] == "row" or x + pos["w"] > GRID_WIDTH:
            x, y, line = 0, y + line, 0
        panel["gridPos"] = {**pos, "x": x, "y": y}
        if panel["type"] == "row":
            y += pos["h"]
            continue
        x += pos["w"]
        line = max(line, pos["h"])


def _overview_links(model: Model) -> list[tuple[str, str]]:
    if any(d.id == "system-overview" for d in model.dashboards):
        return [("System Overview", dashboard_path(model.dashboard_uid("system-overview")))]
    return []


def spec_dashboards(model: Model) -> list[Built]:
    known = sections()
    out = []
    for dash in model.dashboards:
        rows = [row for name in dash.sections if name in known for row in known[name](model, dash)]
        query_vars = []
        if {"nodes", "network", "storage"} & set(dash.sections):
            cpu = next((s.metric("cpu") for s in model.services if s.kind == "kubernetes" and s.metric("cpu")), None)
            if cpu:
                query_vars.append((NODE_VARIABLE, "Node", f"label_values({cpu.selector()}, instance)"))
        links = [] if dash.id == "system-overview" else _overview_links(model)
        uid = model.dashboard_uid(dash.id)
        out.append(Built(uid, dash.title, FOLDER_OVERVIEW, dash.pos, _assemble(
            model, uid, dash.title, dash.description, ["overview", dash.id], rows, dash.refresh, dash.time,
            query_vars, links)))
    return out


def _per_service(model: Model, kind: str, folder: str, wanted, title_of, description_of, rows_of,
                 timing_of, vars_of, links_of) -> list[Built]:
    """One dashboard of `kind` (uid `<org>-<kind>-<service>`) per service for which `wanted` holds."""
    out = []
    for svc in (s for s in model.services if wanted(s)):
        uid = model.dashboard_uid(kind, svc.id)
        refresh, time = timing_of(svc)
        out.append(Built(uid, title_of(svc), folder, svc.pos, _assemble(
            model, uid, title_of(svc), description_of(svc), [kind, svc.id, f"team-{svc.team}"],
            rows_of(model, svc), refresh, time, vars_of(svc), _overview_links(model) + links_of(svc))))
    return out


def slo_dashboards(model: Model) -> list[Built]:
    return _per_service(
        model, "slo", FOLDER_SLO, lambda s: bool(s.slos), lambda s: f"{s.name} SLOs",
        lambda s: f"Service level objectives of {s.name}: SLIs, error budget and burn rates, from the "
                  "recorded SLO series the alerts evaluate.",
        slo_rows, lambda s: (SLO_REFRESH, max(o.window for o in s.slos)), lambda s: [],
        lambda s: [(f"{s.name} RED", dashboard_path(model.dashboard_uid("red", s.id)))] if s.http_like else [])


def red_dashboards(model: Model) -> list[Built]:
    overview = next((d for d in model.dashboards if d.id == "system-overview"), None)
    timing = (overview.refresh, overview.time) if overview else RED_DEFAULTS
    return _per_service(
        model, "red", FOLDER_SERVICES, lambda s: s.http_like, lambda s: f"{s.name} RED",
        lambda s: f"{s.description}: request rate, errors and duration.", red_rows, lambda s: timing,
        lambda s: [(INSTANCE_VARIABLE, "Instance", f"label_values({s.metric('up').selector()}, instance)")]
        if s.metric("up") else [],
        lambda s: slo_links(model, s))


def all_dashboards(model: Model) -> list[Built]:
    return spec_dashboards(model) + slo_dashboards(model) + red_dashboards(model)
