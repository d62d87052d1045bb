"""The Alertmanager configuration as a dict: global, templates, time intervals,
routing tree, inhibition rules and receivers.

Secrets are files, never values: each PagerDuty receiver reads its Events API v2
key from the PagerDuty service's `routing_key_file`, Slack reads its webhook URL
from the channel's `api_url_file` (Alertmanager opens both only when it sends).
Everything an end-to-end test needs to point elsewhere sits in one place: the
PagerDuty endpoint in `global.pagerduty_url`, the SMTP relay in `global`, the
secret files under the organisation's `secrets_dir`, the dead man's switch URL in
its webhook receiver.
"""
from __future__ import annotations

import re

from . import plan
from .intervals import time_intervals

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
GROUP_BY = ["alertname", "service"]
# The Watchdog is a heartbeat: sent at once and every minute, so the dead man's
# switch notices a broken pipeline within a few minutes.
WATCHDOG_TIMINGS = {"group_wait": "0s", "group_interval": "1m", "repeat_interval": "1m"}
# A service-down alert makes these signals of the same service noise.
DOWN_SIGNAL = "up"
DOWN_INHIBITS = ("error_ratio", "unavailable_ratio", "latency_p95", "probe_success", "error_budget_burn")


def q(value: str) -> str:
    """A matcher value in double quotes, escaped the way Alertmanager parses it."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def eq(label: str, value: str) -> str:
    return f"{label}={q(value)}"


_RE_SPECIAL = re.compile(r"([.+*?()|\[\]{}^$\\])")


def regex(label: str, values, op: str = "=~") -> str:
    """`label=~"a|b"`: Alertmanager anchors the regular expression itself."""
    alternatives = "|".join(_RE_SPECIAL.sub(r"\\\1", v) for v in values)
    return f"{label}{op}{q(alternatives)}"


def config(model, templates: list[str]) -> dict:
    out = {"global": global_section(model), "templates": templates}
    intervals = time_intervals(model)
    if intervals:
        out["time_intervals"] = intervals
    out["route"] = route(model)
    out["inhibit_rules"] = inhibit_rules(model)
    out["receivers"] = receivers(model)
    return out


def global_section(model) -> dict:
    org = model.organization
    return {
        "resolve_timeout": "5m",
        "pagerduty_url": PAGERDUTY_EVENTS_URL,
        "smtp_smarthost": org.smtp_smarthost,
        "smtp_from": org.smtp_from,
        "smtp_require_tls": True,
    }


# --- routing -------------------------------------------------------------------------

def route(model) -> dict:
    pagerduty = plan.pagerduty_index(model)
    return {
        "receiver": plan.DEFAULT,
        "group_by": list(GROUP_BY),
        "routes": [watchdog_route()] + [severity_route(model, s, pagerduty) for s in model.severities],
    }


def watchdog_route() -> dict:
    return {"matchers": [eq("alertname", plan.WATCHDOG)], "receiver": plan.DEADMANS_SWITCH,
            **WATCHDOG_TIMINGS, "continue": False}


def _timed(r: dict, mutes: list[str]) -> dict:
    if mutes:
        r["mute_time_intervals"] = list(mutes)
    return r


def severity_route(model, severity, pagerduty: dict | None = None) -> dict:
    """The route of one severity: its timings, and one child per receiver it reaches.

    Every child but the last has `continue: true`, so an alert reaches each of
    them. Children carry the maintenance mutes themselves: Alertmanager does not
    inherit `mute_time_intervals` from a parent route.
    """
    children = []
    pagerduty = pagerduty if pagerduty is not None else plan.pagerduty_index(model)
    for svc in model.services:
        pd = pagerduty.get((svc.id, severity.id))
        if pd is not None:
            children.append(_timed({"matchers": [eq("service", svc.id)], "receiver": plan.pagerduty_receiver(pd)},
                                   plan.mutes_for(model, severity.id, svc.id)))
    default_mutes = plan.mutes_for(model, severity.id, None)
    # Services whose mutes differ from those of an unknown service get their own
    # child per channel; the catch-all child excludes them.
    groups: dict[tuple, list[str]] = {}
    for svc in model.services:
        mutes = tuple(plan.mutes_for(model, severity.id, svc.id))
        if list(mutes) != default_mutes:
            groups.setdefault(mutes, []).append(svc.id)
    special = [s for ids in groups.values() for s in ids]
    for ch in plan.severity_channels(model, severity):
        for mutes, ids in groups.items():
            children.append(_timed({"matchers": [regex("service", ids)], "receiver": ch.id}, list(mutes)))
        matchers = [regex("service", special, "!~")] if special else []
        children.append(_timed({**({"matchers": matchers} if matchers else {}), "receiver": ch.id}, default_mutes))
    for child in children[:-1]:
        child["continue"] = True
    r = {
        "matchers": [eq("severity", severity.id)],
        "receiver": plan.DEFAULT,
        "group_wait": str(severity.group_wait),
        "group_interval": str(severity.group_interval),
        "repeat_interval": str(severity.repeat_interval),
    }
    _timed(r, default_mutes)
    if children:
        r["routes"] = children
    return r


# --- inhibition ------------------------------------------------------------------------

def inhibit_rules(model) -> list[dict]:
    """Each rule names the labels source and target must share (`equal`), so an alert
    can only silence alerts of its own service."""
    per_instance = sorted({label for a in model.alerts for label in a.by})
    rules = []
    ids = [s.id for s in model.severities]
    for i, sid in enumerate(ids[:-1]):
        rules.append({
            "source_matchers": [eq("severity", sid)],
            "target_matchers": [regex("severity", ids[i + 1:])],
            "equal": GROUP_BY + per_instance,
        })
    rules.append({
        "source_matchers": [eq("signal", DOWN_SIGNAL)],
        "target_matchers": [regex("signal", DOWN_INHIBITS)],
        "equal": ["service"],
    })
    rules.append({
        "source_matchers": [eq("signal", "error_budget_burn"), eq("burn", "page")],
        "target_matchers": [eq("signal", "error_budget_burn"), eq("burn", "ticket")],
        "equal": ["alertname", "service", "slo"],
    })
    return rules


# --- receivers -------------------------------------------------------------------------

def tmpl(name: str) -> str:
    return '{{ template "' + name + '" . }}'


def receivers(model) -> list[dict]:
    out = [{"name": plan.DEFAULT, **integrations(model, plan.default_channels(model))},
           {"name": plan.DEADMANS_SWITCH, **integrations(model, plan.deadmans_switch_channels(model))}]
    out += [{"name": ch.id, **integrations(model, [ch])} for ch in plan.routed_channels(model)]
    for pd in model.pagerduty_services:
        out.append({"name": plan.pagerduty_receiver(pd), "pagerduty_configs": [pagerduty(model, pd)]})
    return out


def integrations(model, channels) -> dict:
    out: dict[str, list] = {}
    for ch in channels:
        key, body = {"slack": ("slack_configs", slack), "email": ("email_configs", email),
                     "webhook": ("webhook_configs", webhook)}[ch.type]
        out.setdefault(key, []).append(body(ch))
    return out


def pagerduty(model, pd) -> dict:
    severity = model.severity(pd.severity)
    return {
        "routing_key_file": pd.routing_key_file,
        "send_resolved": True,
        "severity": severity.pd_severity,
        "description": tmpl("montool.pagerduty.description"),
        "client": f"{model.organization.name} Alertmanager",
        "client_url": "{{ .ExternalURL }}",
        "class": "{{ .CommonLabels.signal }}",
        "component": "{{ .CommonLabels.service }}",
        "group": "{{ .CommonLabels.team }}",
        "details": {
            "alertname": "{{ .CommonLabels.alertname }}",
            "dashboard_url": tmpl("montool.dashboard_url"),
            "description": tmpl("montool.descriptions"),
            "runbook_url": tmpl("montool.runbook_url"),
            "service": "{{ .CommonLabels.service }}",
            "severity": "{{ .CommonLabels.severity }}",
            "summary": "{{ .CommonAnnotations.summary }}",
        },
        "links": [
            {"href": tmpl("montool.runbook_url"), "text": "Runbook"},
            {"href": tmpl("montool.dashboard_url"), "text": "Dashboard"},
        ],
    }


def _given(**fields) -> dict:
    return {k: v for k, v in fields.items() if v is not None}


def slack(ch) -> dict:
    return {
        **_given(api_url_file=ch.api_url_file, channel=ch.slack_channel),
        "send_resolved": True,
        "title": tmpl("montool.slack.title"),
        "title_link": tmpl("montool.runbook_url"),
        "text": tmpl("montool.slack.text"),
        "color": tmpl("montool.slack.color"),
    }


def email(ch) -> dict:
    return {
        **_given(to=ch.email_to),
        "send_resolved": True,
        "headers": {"Subject": tmpl("montool.email.subject")},
        "text": tmpl("montool.email.text"),
    }


def webhook(ch) -> dict:
    return {**_given(url=ch.url), "send_resolved": False}
