"""Grafana target: dashboards from the spec, provisioning and Kubernetes ConfigMaps.

Built with grafana-foundation-sdk and written as JSON:

- the spec's `dashboards` (System Overview, Infrastructure, Application Metrics,
  Business KPIs, ...), each made of the `sections` it lists (see
  `generators.grafana.sections` for what each section shows);
- one SLO dashboard per service with SLOs (uid `<org>-slo-<service>`), reading only
  the SLO series the Prometheus target records;
- one RED dashboard per HTTP-like service (uid `<org>-red-<service>`).

Which metrics a panel shows comes from the model (services' metrics, kinds and
signals, declared panels, SLOs), so a service added to the spec appears on the
right dashboards. `validate` checks, on the staged tree, what the package can check
by itself: uids unique and at most 40 characters, a unit and a description on every
panel, every query parses as PromQL, every section name is known and every alert's
`dashboard_url` points at a generated dashboard. The upstream JSON Schemas are
checked by the tests.
"""
from __future__ import annotations

from .check import validate
from .dashboards import all_dashboards
from .files import output_files

__all__ = ["generate", "validate"]


def generate(model) -> list:
    return output_files(model, all_dashboards(model))
