"""alertmanager target: the Alertmanager configuration, its notification templates,
the kube-prometheus-stack values and the routing tests, all from the spec.

Output (under `output/`):

- `alertmanager/alertmanager.yml` - the configuration (Alertmanager 0.25 and newer).
- `alertmanager/templates/montool.tmpl` - notification templates, referenced by the
  configuration as `templates/*.tmpl` (Alertmanager resolves it against the
  configuration file's folder).
- `alertmanager/tests/routes.yml` - the routing cases (label set -> receivers),
  the inhibition pairs and the maintenance mutes the configuration must meet.
- `helm/alertmanager-values.yaml` - the same configuration as kube-prometheus-stack
  values, templates as `templateFiles`, secret files mounted from Secrets.

Routing: the Watchdog goes to the dead man's switch (the spec's webhook channel)
and nowhere else. Every severity has a route with its own group_wait,
group_interval and repeat_interval (derived in the model from its response and
escalation times); under it, each service's PagerDuty receiver (paging severities
only, `continue: true`) and then the severity's Slack, email and webhook channels.
SMS and phone are PagerDuty's high-urgency notification rules, not Alertmanager's.
An alert with an unknown or no severity reaches `default` (every Slack and email
channel). Maintenance windows are `time_intervals`, muting the routes of the
severities (and services) they name; the Watchdog is never muted.

Inhibition: a higher severity inhibits lower ones of the same alertname and
service; a service-down alert (`signal="up"`) inhibits that service's error,
unavailability, latency, health-check and burn-rate alerts; an SLO's page burn
alert inhibits its ticket burn alert. Every rule has `equal` labels.

Validation (`validate`): `amtool check-config` on both configurations, and every
routing case through the real Alertmanager routing tree, all at once on one
`alertmanager` server (`server.py`; amtool per case when only amtool is installed);
a mismatch names the case. Neither opens `routing_key_file` or `api_url_file`, so
no secret file is needed.
"""
from __future__ import annotations

from importlib.resources import files

from ..emit import OutputFile, generated_header, yaml_text
from . import cases, config, helm
from .cases import inhibition_cases, maintenance_cases, routing_cases, routing_table
from .validate import validate

CONFIG = "alertmanager/alertmanager.yml"
TEMPLATES_DIR = "alertmanager/templates"
ROUTES = "alertmanager/tests/routes.yml"
HELM_VALUES = "helm/alertmanager-values.yaml"
TEMPLATE_FILES = ("montool.tmpl",)

__all__ = ["generate", "validate", "routing_table", "routing_cases", "inhibition_cases", "maintenance_cases",
           "CONFIG", "ROUTES", "HELM_VALUES"]


def template_files(model) -> dict[str, str]:
    """Notification template file name -> content, with the generated-file header."""
    header = "{{/* " + generated_header(model.source).lstrip("# ") + " */}}\n"
    source = files(__package__.rsplit(".", 1)[0]).joinpath("templates", "alertmanager")
    return {name: header + source.joinpath(name).read_text(encoding="utf-8") for name in TEMPLATE_FILES}


def _comment(lines: list[str]) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


def generate(model) -> list[OutputFile]:
    header = generated_header(model.source)
    templates = template_files(model)
    cfg = config.config(model, ["templates/*.tmpl"])
    values, notes = helm.values(dict(cfg, templates=[]), templates)   # helm.values copies what it changes
    routes_notes = [
        "Routing cases: `montool build` routes each through a real Alertmanager (its API's receivers);",
        "by hand: `amtool config routes test --config.file=alertmanager.yml --verify.receivers=<receivers> <labels>`.",
        "Inhibitions and maintenance mutes are expectations for the end-to-end tests (amtool cannot test them).",
    ]
    out = [
        OutputFile(CONFIG, yaml_text(cfg, header=header)),
        OutputFile(ROUTES, yaml_text(cases.document(model), header=header + "\n" + _comment(routes_notes))),
        OutputFile(HELM_VALUES, yaml_text(values, header=header + "\n" + _comment(notes))),
    ]
    out += [OutputFile(f"{TEMPLATES_DIR}/{name}", text) for name, text in sorted(templates.items())]
    return out
