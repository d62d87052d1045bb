"""Semantic checks: each one fires on its mistake, and none fires on a good spec.

Each mistake is one edit of tests/specs/minimal.yaml's data after loading (so every
unchanged node keeps its position); the edit must still pass the schema, so what
fires is the semantic check.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO_ROOT
from generators.spec.checks import CHECKS, run_checks
from generators.spec.load import load
from generators.spec.model import build_model
from generators.spec.problems import SpecError
from generators.spec.schema import validate

MINIMAL = REPO_ROOT / "tests" / "specs" / "minimal.yaml"


def found(edit=None, path: Path = MINIMAL):
    doc = load(path)
    if edit:
        edit(doc.data)
    assert validate(doc) == [], "the edit must keep the spec valid for the schema"
    try:
        model = build_model(doc)
    except SpecError as exc:
        return exc.problems
    return run_checks(model, doc)


def rules(edit=None):
    return [(p.rule, p.path) for p in found(edit)]


def put(*parts_and_value):
    *parts, value = parts_and_value

    def edit(data):
        node = data
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
        node[parts[-1]] = value
    return edit


def edits(*fns):
    def edit(data):
        for fn in fns:
            fn(data)
    return edit


def test_silent_on_the_aitbc_spec():
    assert found(path=REPO_ROOT / "spec") == []


def test_silent_on_the_minimal_spec():
    assert found() == []


def test_every_check_is_registered_once():
    names = [name for name, _ in CHECKS]
    assert len(names) == len(set(names)) >= 10


RULE = ("alert_rules", "error-rate")
API = ("services", "api")
ROT = ("rotations", "oncall")
LEVELS = ("escalation", "levels")
WINDOW = ("maintenance_windows", "sunday")

CASES = {
    # references
    "unknown severity in levels": (
        put(*RULE, "levels", {"P1": "10%", "P3": "5%"}), [("ref/severity", "alert_rules.error-rate.levels.P3")]),
    "unknown muted severity": (
        put(*WINDOW, "mute_severities", ["P4"]),
        [("ref/severity", "maintenance_windows.sunday.mute_severities[0]")]),
    "unknown escalation severity": (
        put(*LEVELS, 1, "severities", ["P0"]), [("ref/severity", "escalation.levels[1].severities[0]")]),
    "unknown SLO page severity": (
        put(*API, "slos", "availability", "page_severity", "P0"),
        [("ref/severity", "services.api.slos.availability.page_severity")]),
    "unknown rotation member": (
        put(*ROT, "members", ["alice", "carol"]), [("ref/person", "rotations.oncall.members[1]")]),
    "unknown escalation person": (
        put(*LEVELS, 1, "target", {"person": "cto"}), [("ref/person", "escalation.levels[1].target.person")]),
    "unknown rotation": (
        put(*LEVELS, 0, "target", {"rotation": "on-call", "tier": "primary"}),
        [("ref/rotation", "escalation.levels[0].target.rotation")]),
    "unknown tier": (
        put(*LEVELS, 0, "target", "tier", "tertiary"), [("ref/tier", "escalation.levels[0].target.tier")]),
    "unknown channel": (
        put("severities", "P2", "channels", ["email"]), [("ref/channel", "severities.P2.channels[0]")]),
    "unknown incident level": (
        edits(put("incident_levels", {"SEV-1": {"name": "High"}}), put("severities", "P1", "incident_level", "SEV-0")),
        [("ref/incident-level", "severities.P1.incident_level")]),
    "unknown service in a window": (
        put(*WINDOW, "services", ["web"]), [("ref/service", "maintenance_windows.sunday.services[0]")]),
    "unknown service in a rule": (
        put(*RULE, "services", ["web"]), [("ref/service", "alert_rules.error-rate.services[0]")]),
    "unknown team": (put(*API, "team", "platform"), [("ref/team", "services.api.team")]),
    "unknown runbook of a rule": (put(*RULE, "runbook", "error"), [("ref/runbook", "alert_rules.error-rate.runbook")]),
    "unknown runbook of an override": (
        put(*API, "alerts", "error-rate", {"runbook": "oops"}),
        [("ref/runbook", "services.api.alerts.error-rate.runbook")]),
    "unknown panel metric": (
        put(*API, "panels", [{"title": "Jobs", "metric": "jobs"}]), [("ref/metric", "services.api.panels[0].metric")]),
    "unknown panel dashboard": (
        edits(put("dashboards", {"overview": {"title": "Overview"}}),
              put(*API, "panels", [{"title": "Requests", "metric": "requests", "dashboard": "kpis"}])),
        [("ref/dashboard", "services.api.panels[0].dashboard")]),
    # signals
    "unknown signal": (put(*RULE, "signal", "error_rate"), [("ref/signal", "alert_rules.error-rate.signal")]),
    "signal needs a metric the kind lacks": (
        edits(put(*RULE, "signal", "queue_depth"), put(*RULE, "levels", {"P1": 1000, "P2": 500})),
        [("ref/signal", "alert_rules.error-rate.signal")]),
    "override of no rule, without a signal": (
        put(*API, "alerts", "latency", {"levels": {"P1": "1s"}}), [("ref/signal", "services.api.alerts.latency")]),
    "unknown signal in a further condition": (
        put(*RULE, "and", [{"signal": "latency_p99", "op": ">", "threshold": "1s"}]),
        [("ref/signal", "alert_rules.error-rate.and[0].signal")]),
    # alerts
    "inverted thresholds for >": (
        put(*RULE, "levels", {"P1": "5%", "P2": "10%"}),
        [("alert/inverted-thresholds", "alert_rules.error-rate.levels.P2")]),
    "equal thresholds": (
        put(*RULE, "levels", {"P1": "5%", "P2": "5%"}),
        [("alert/inverted-thresholds", "alert_rules.error-rate.levels.P2")]),
    "inverted thresholds for <": (
        edits(put(*RULE, "signal", "probe_success"), put(*RULE, "op", "<"),
              put(*RULE, "levels", {"P1": 0.5, "P2": 0.2})),
        [("alert/inverted-thresholds", "alert_rules.error-rate.levels.P2")]),
    "levels out of order": (
        put(*RULE, "levels", {"P2": "5%", "P1": "10%"}), [("alert/level-order", "alert_rules.error-rate.levels")]),
    "for: 0s": (put(*RULE, "for", "0s"), [("alert/for-zero", "alert_rules.error-rate.for")]),
    "for: 0s with an equality operator": (
        edits(put(*RULE, "signal", "up"), put(*RULE, "op", "=="), put(*RULE, "levels", {"P1": 0}),
              put(*RULE, "for", "0s")),
        [("alert/for-zero", "alert_rules.error-rate.for")]),
    "summary without a period": (
        put(*RULE, "summary", "Too many errors"), [("alert/summary", "alert_rules.error-rate.summary")]),
    "summary without a period, operator !=": (
        edits(put(*RULE, "signal", "up"), put(*RULE, "op", "!="), put(*RULE, "levels", {"P1": 1}),
              put(*RULE, "summary", "Down")),
        [("alert/summary", "alert_rules.error-rate.summary")]),
    "two alerts with one name": (
        put(*API, "alerts", "error_rate", {"summary": "Errors.", "signal": "error_ratio", "op": ">",
                                           "levels": {"P1": "20%"}}),
        [("alert/duplicate-name", "services.api.alerts.error_rate")]),
    "rate window under 4 scrape intervals": (
        put(*RULE, "window", "1m"), [("window/too-short", "alert_rules.error-rate.window")]),
    # SLOs
    "objective 100": (put(*API, "slos", "availability", "objective", 100),
                      [("slo/no-budget", "services.api.slos.availability.objective")]),
    "latency threshold not a bucket": (
        put(*API, "slos", "latency", "threshold", "300ms"), [("slo/bucket", "services.api.slos.latency.threshold")]),
    "latency SLO without buckets": (
        lambda d: d["services"]["api"].pop("histogram_buckets"),
        [("slo/bucket", "services.api.slos.latency.threshold")]),
    "latency SLO without threshold": (
        lambda d: d["services"]["api"]["slos"]["latency"].pop("threshold"),
        [("slo/sli", "services.api.slos.latency"), ("slo/sli", "services.api.slos.latency")]),
    "a 2-day SLO scales its alert windows down (no problem)": (
        put(*API, "slos", "availability", "window", "2d"), []),
    # PromQL
    "metric override that does not parse": (
        put(*API, "metrics", {"requests": 'http_requests_total{job=~"api("}'}),
        [("promql/parse", "services.api.metrics.requests")]),
    "metric override that cannot be read": (
        put(*API, "metrics", {"requests": "http_requests_total{job=}"}),
        [("model/value", "services.api.metrics.requests")]),
    # rotations
    "offset collision": (put(*ROT, "tiers", "secondary", "offset", 0),
                         [("rotation/offset", "rotations.oncall.tiers.secondary.offset")]),
    "offset beyond the members": (put(*ROT, "tiers", "secondary", "offset", 2),
                                  [("rotation/offset", "rotations.oncall.tiers.secondary.offset")]),
    "member listed twice": (
        edits(put(*ROT, "members", ["alice", "bob", "alice"])),
        [("rotation/members", "rotations.oncall.members[2]")]),
    "more tiers than members": (
        edits(put(*ROT, "members", ["alice"]),
              put(*ROT, "tiers", {"primary": {"offset": 0}, "secondary": {"offset": 0}})),
        [("rotation/members", "rotations.oncall.tiers"),
         ("rotation/offset", "rotations.oncall.tiers.secondary.offset")]),
    # maintenance
    "weekly window ending before it starts": (
        put(*WINDOW, "weekly", "end", "01:00"),
        [("maintenance/order", "maintenance_windows.sunday.weekly.end")]),
    "one-off window ending before it starts": (
        put(*WINDOW, {"once": {"start": "2025-01-05T04:00:00Z", "end": "2025-01-05T02:00:00Z"},
                                               "mute_severities": ["P2"]}),
        [("maintenance/order", "maintenance_windows.sunday.once.end")]),
    # time zones
    "unknown organisation time zone": (
        put("organization", "timezone", "Mars/Olympus"), [("tz/unknown", "organization.timezone")]),
    "unknown rotation time zone": (
        put(*ROT, "timezone", "Europe/Atlantis"), [("tz/unknown", "rotations.oncall.timezone")]),
    "unknown window time zone": (
        put(*WINDOW, "timezone", "UTC+2"), [("tz/unknown", "maintenance_windows.sunday.timezone")]),
    # severities
    "escalation before the response time": (
        put("severities", "P1", "escalation_after", "10m"), [("severity/timing", "severities.P1.escalation_after")]),
    "repeat shorter than the group interval": (
        put("severities", "P2", "notify", {"group_interval": "10m", "repeat_interval": "5m"}),
        [("severity/timing", "severities.P2.notify")]),
    "paging severity without escalation levels": (
        lambda d: d.pop("escalation"), [("ref/rotation", "escalation"), ("ref/severity", "severities.P1")]),
    "paging severity no level applies to": (
        edits(put("severities", "P2", "channels", ["pagerduty"]),
              put(*LEVELS, [{"target": {"person": "bob"}, "severities": ["P1"]}])),
        [("ref/severity", "severities.P2")]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_check_fires_on_its_mistake(name):
    edit, expected = CASES[name]
    assert sorted(rules(edit)) == sorted(expected)


def test_messages_name_what_is_wrong_and_what_would_do():
    [p] = found(put(*RULE, "levels", {"P1": "5%", "P2": "10%"}))
    assert p.message == "P2 threshold 10% is not less severe than P1 threshold 5% for '>'"
    assert (p.line, p.column) == (46, 23)   # P2 as written in minimal.yaml
    [p] = found(put(*RULE, "runbook", "error"))
    assert p.message == "unknown runbook 'error' of service 'api' (known: errors)"
    [p] = found(put(*ROT, "members", ["alice", "carol"]))
    assert p.message == "unknown person 'carol' (known: alice, bob)"
    [p] = found(edits(put(*RULE, "signal", "latency_p95"), put(*RULE, "levels", {"P1": "1s", "P2": "1500ms"})))
    assert p.message == "P2 threshold 1s500ms is not less severe than P1 threshold 1s for '>'"
