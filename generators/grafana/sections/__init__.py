"""Dashboard sections: each spec dashboard lists the sections it shows.

A section is a function `(model, dashboard) -> list[Row]`; it picks the services
it applies to from the model (by kind, metrics or declared panels), so a service
added to the spec appears on the right dashboards without code changes. A section
with nothing to show returns no rows.

| section | shows |
|---|---|
| health | per service: up and health-check stats, linking to the service's dashboard |
| errors | 5xx and 4xx error ratios of the HTTP-like services, alert thresholds as lines |
| latency | p95 latency of each HTTP-like service against its latency SLO threshold |
| throughput | request rates; transactions per second against the throughput alert floor |
| resources | node CPU, memory and disk utilisation |
| alerts | firing alerts by severity and a table of them |
| cluster | ready and not-ready nodes, node pressure, pods not running |
| nodes | CPU and memory per node |
| pods | pods by phase, container restarts |
| network | bytes received and transmitted per node |
| storage | filesystem usage and free space |
| postgresql | up, connections against max_connections, replica lag, longest transaction |
| redis | up, memory against maxmemory, evictions, clients, rejected connections |
| blockchain | block height, block time against its SLO, finality, peers, TPS |
| panels | the panels services declare for this dashboard (`services.<id>.panels`) |
| slo-compliance | per SLO: compliance over its period against the objective, budget left |
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Row:
    title: str
    panels: list = field(default_factory=list)


Section = Callable[..., list[Row]]


def _registry() -> dict[str, Section]:
    from . import application, infrastructure, overview

    return {**overview.SECTIONS, **infrastructure.SECTIONS, **application.SECTIONS}


def sections() -> dict[str, Section]:
    return _registry()
