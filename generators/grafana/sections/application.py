"""Application and business sections: blockchain, panels (declared by services), slo-compliance."""
from __future__ import annotations

from ...emit import fmt_number
from .. import recorded as R
from ..panels import (UNITS, UP_STEPS, Query, Step, alert_steps, dashboard_path, rate, selector, signal, stat,
                      timeseries, up_mappings, service_link)
from . import Row


def blockchain(model, dash) -> list[Row]:
    rows = []
    for s in (s for s in model.services if s.kind == "blockchain-node"):
        panels = []
        if s.metric("up"):
            panels.append(stat(f"{s.name} up", "1 while at least one node is scraped.", "none",
                               [Query(signal(s, "up"))], steps=UP_STEPS, mappings=up_mappings(),
                               links=[service_link(model, s)], graph=False))
        if s.metric("block_height"):
            panels.append(timeseries("Block height", "Height of the chain's head, highest node.", "short",
                                     [Query(f"max({selector(s, 'block_height')})", "height")]))
        if s.metric("block_time"):
            limits = sorted({o.threshold for o in s.slos if o.type == "average" and o.threshold is not None})
            avg = (f"{rate(selector(s, 'block_time', suffix='_sum'))}"
                   f" / {rate(selector(s, 'block_time', suffix='_count'))}")
            note = (" Dashed line: the block-time SLO ceiling ("
                    + ", ".join(f"{fmt_number(t)}s" for t in limits) + ").") if limits else ""
            panels.append(timeseries(
                "Block time", f"Average time between blocks.{note}", "s", [Query(avg, "average")],
                steps=[Step(None, "green")] + [Step(t, "red") for t in limits] if limits else (), min_value=0))
        if s.metric("finality"):
            panels.append(timeseries(
                "Finality p95", "95th percentile time to finality. Dashed line: the alert threshold.", "s",
                [Query(signal(s, "finality_p95"), "p95")], steps=alert_steps(model, [s], "finality_p95"),
                min_value=0))
        if s.metric("peers_connected"):
            queries = [Query(f"min({selector(s, 'peers_connected')})", "connected (fewest)")]
            if s.metric("peers_expected"):
                queries.append(Query(f"max({selector(s, 'peers_expected')})", "expected"))
            panels.append(timeseries("Peers", "Peers connected to the worst-connected node, and peers expected.",
                                     "short", queries, min_value=0))
        if s.metric("transactions"):
            panels.append(timeseries(
                "Transaction processing", "Transactions processed per second. Dashed line: the throughput floor.",
                UNITS["per_second"], [Query(signal(s, "tps"), "TPS")], steps=alert_steps(model, [s], "tps"),
                min_value=0))
        if panels:
            rows.append(Row(s.name, panels))
    return rows


def declared(model, dash) -> list[Row]:
    rows = []
    for s in model.services:
        panels = []
        for p in s.panels:
            if p.dashboard != dash.id or p.metric is None:
                continue
            sel = p.metric.selector()
            expr = rate(sel) if p.rate else f"sum({sel})"
            what = "per second, " if p.rate else ""
            panels.append(timeseries(
                p.title, f"{p.title} of {s.name}: {p.metric.name}, {what}summed over its series.", p.unit,
                [Query(expr, s.name)], width=8, min_value=0))
        if panels:
            rows.append(Row(s.name, panels))
    return rows


def slo_compliance(model, dash) -> list[Row]:
    panels = []
    for o in (o for o in model.slos if o.type != "average"):
        svc = model.service(o.service)
        link = [(f"{svc.name} SLO dashboard", dashboard_path(model.dashboard_uid("slo", o.service)))]
        panels.append(stat(
            f"{svc.name} {o.id}",
            f"{o.description or o.name}. Good events over the last {o.window}; red below the "
            f"{fmt_number(o.objective_percent)}% objective.",
            "percentunit", [Query(f"1 - {R.sli_error(o, o.window)}")], decimals=3,
            steps=[Step(None, "red"), Step(o.objective, "green")], links=link, graph=False))
        panels.append(stat(
            f"{svc.name} {o.id} budget left",
            f"Share of the {o.window} error budget still unspent; red once the budget is gone.",
            "percentunit", [Query(R.budget_remaining(o))], decimals=1,
            steps=[Step(None, "red"), Step(0, "green")], links=link))
    return [Row("SLA compliance", panels)] if panels else []


SECTIONS = {"blockchain": blockchain, "panels": declared, "slo-compliance": slo_compliance}
