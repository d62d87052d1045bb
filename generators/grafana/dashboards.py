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
from functools import cached_property

from ..spec.model import Model, stable_id
from ..spec.problems import Position
from ..emit import json_text
from ..spec.values import Duration
from .panels import DATASOURCE, V2_NOTICE, dashboard_path, db, dm, row
from .sections import Row, sections
from .service import INSTANCE_VARIABLE, red_rows, slo_links, slo_rows
from .sections.fleet import fleet_rows
from .sections.infrastructure import NODE_VARIABLE
from .template import Panel, Template, cached, panel_text, panels_text, sdk_json, shape_of, slot, string_values

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
    text: str                # the dashboard's JSON text (as written)

    @cached_property
    def data(self) -> dict:
        """The dashboard JSON model."""
        return json.loads(self.text)


def grafana_duration(d: Duration) -> str:
    """A duration in the one unit Grafana's time ranges accept (`90m`, not `1h30m`)."""
    for unit, ms in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if d.ms % ms == 0:
            return f"{d.ms // ms}{unit}"
    return f"{max(1, d.ms // 1000)}s"


def org_tag(model: Model) -> str:
    return stable_id(model.organization.name)


def _variables(n: int, s):
    out = [db.DatasourceVariable("datasource").label("Data source").type("prometheus")
           .description("The Prometheus that evaluates the organisation's rules.")]
    for _ in range(n):
        name, label, query = next(s), next(s), next(s)
        out.append(db.QueryVariable(name).label(label).datasource(DATASOURCE).query(query).definition(query)
                   .multi(True).include_all(True).all_value(".*").refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
                   .sort(dm.VariableSort.ALPHABETICAL_ASC)
                   .current(dm.VariableOption(selected=True, text="All", value="$__all")))
    return out


def _links(n: int, s):
    out = [db.DashboardLink(next(s)).type(dm.DashboardLinkType.DASHBOARDS)
           .tags([next(s)]).as_dropdown(True).keep_time(True).include_vars(False).target_blank(False)
           .icon("external link").tooltip("")]
    for _ in range(n):
        title, url = next(s), next(s)
        out.append(db.DashboardLink(title).type(dm.DashboardLinkType.LINK).url(url).keep_time(True)
                   .include_vars(False).target_blank(False).icon("dashboard").tooltip(title).tags([]))
    return out


def _frame(n_tags: int, n_vars: int, n_links: int, s) -> str:
    """The dashboard without its panels (a `panels` slot where they go), as JSON text."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=V2_NOTICE, category=DeprecationWarning)
        d = db.Dashboard(next(s))
    d = (d.uid(next(s)).description(next(s)).tags([next(s) for _ in range(n_tags)])
         .timezone(next(s)).tooltip(dm.DashboardCursorSync.CROSSHAIR)
         .time(next(s), "now").refresh(next(s)).readonly()
         .variables(_variables(n_vars, s)).links(_links(n_links, s)))
    data = sdk_json(d.build())
    data["panels"] = slot("panels")
    return json_text(data)


def _assemble(model: Model, uid: str, title: str, description: str, tags: list[str], rows: list[Row],
              refresh: Duration, time: Duration, query_vars=(), links=()) -> str:
    """The dashboard's JSON text: its frame (from a template per shape), its rows and panels laid out."""
    tz = model.organization.timezone
    tags = [org_tag(model), *tags]
    strings = (title, uid, description, *tags, "utc" if tz.upper() == "UTC" else tz,
               f"now-{grafana_duration(time)}", grafana_duration(refresh),
               *(x for v in query_vars for x in v), f"{model.organization.name} dashboards", org_tag(model),
               *(x for link in links for x in link))
    shape = shape_of("dashboard", strings, len(tags), len(query_vars), len(links))
    frame = cached(shape, lambda: _frame(len(tags), len(query_vars), len(links),
                                         iter([slot(i) for i in range(len(strings))])))
    values = string_values(strings)
    panels = [p for r in rows for p in (row(r.title), *r.panels)]
    if not panels:
        return _without_panels(frame, values)
    values["panels"] = panels_text([panel_text(p, i, x, y) for p, (i, x, y) in zip(panels, layout(panels))])
    return frame.fill(values)


def _without_panels(frame: Template, values: dict[str, str]) -> str:
    """A dashboard without rows has no `panels` key (the SDK writes none)."""
    data = json.loads(frame.fill({**values, "panels": "null"}))
    del data["panels"]
    return json_text(data)


def layout(panels: list[Panel]) -> list[tuple[int, int, int]]:
    """(id, x, y) of each panel: numbered in order and placed left to right, wrapping at
    the grid's 24 columns; each row starts on a line of its own."""
    out = []
    x = y = line = 0
    for i, panel in enumerate(panels, start=1):  # ids are stable: the order of rows and panels
        if panel.type == "row" or x + panel.width > GRID_WIDTH:
            x, y, line = 0, y + line, 0
        out.append((i, x, y))
        if panel.type == "row":
            y += panel.height
            continue
        x += panel.width
        line = max(line, panel.height)
    return out


def _overview_links(model: Model) -> list[tuple[str, str]]:
    if any(d.id == "system-overview" for d in model.dashboards):
        return [("System Overview", dashboard_path(model.dashboard_uid("system-overview")))]
    return []


def spec_dashboards(model: Model) -> list[Built]:
    known = sections()
    out = []
    for dash in model.dashboards:
        rows = [r for name in dash.sections if name in known
                for r in fleet_rows(model, name, known[name](model, dash))]
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
        model, "slo", FOLDER_SLO, has_slo_dashboard, lambda s: f"{s.name} SLOs",
        lambda s: f"Service level objectives of {s.name}: SLIs, error budget and burn rates, from the "
                  "recorded SLO series the alerts evaluate.",
        slo_rows, lambda s: (SLO_REFRESH, max(o.window for o in s.slos)), lambda s: [],
        lambda s: [(f"{s.name} RED", dashboard_path(model.dashboard_uid("red", s.id)))] if s.http_like else [])


def red_dashboards(model: Model) -> list[Built]:
    overview = next((d for d in model.dashboards if d.id == "system-overview"), None)
    timing = (overview.refresh, overview.time) if overview else RED_DEFAULTS
    return _per_service(
        model, "red", FOLDER_SERVICES, has_red_dashboard, lambda s: f"{s.name} RED",
        lambda s: f"{s.description}: request rate, errors and duration.", red_rows, lambda s: timing,
        lambda s: [(INSTANCE_VARIABLE, "Instance", f"label_values({s.metric('up').selector()}, instance)")]
        if s.metric("up") else [],
        lambda s: slo_links(model, s))


def has_slo_dashboard(svc) -> bool:
    return bool(svc.slos)


def has_red_dashboard(svc) -> bool:
    return svc.http_like


def sources(model: Model) -> dict[str, Position]:
    """uid -> the spec node of every dashboard all_dashboards builds, without building them."""
    out = {model.dashboard_uid(d.id): d.pos for d in model.dashboards}
    for kind, wanted in (("slo", has_slo_dashboard), ("red", has_red_dashboard)):
        out.update((model.dashboard_uid(kind, s.id), s.pos) for s in model.services if wanted(s))
    return out


def all_dashboards(model: Model) -> list[Built]:
    return spec_dashboards(model) + slo_dashboards(model) + red_dashboards(model)
