"""The typed model of the AITBC spec, checked against the playbook and the SRE workbook.

Expected values come from the playbook (../shared/seed/aitbc-monitoring-playbook.md),
the workbook's multiwindow burn-rate table, or arithmetic done here by hand.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from generators.spec.load import load
from generators.spec.model import build_model, burn_tiers, stable_id
from generators.spec.problems import SpecError
from generators.spec.schema import validate
from generators.spec.values import Duration

D = Duration.parse


def model_of(path: Path):
    doc = load(path)
    assert validate(doc) == []
    return build_model(doc)


@pytest.fixture(scope="module")
def aitbc():
    return model_of(REPO_ROOT / "spec")


def test_the_eight_services_with_the_kinds_the_playbook_implies(aitbc):
    assert {s.id: s.kind for s in aitbc.services} == {
        "coordinator-api": "http-api",            # "Job management and marketplace coordination"
        "blockchain-node": "blockchain-node",     # "Consensus and transaction processing"
        "explorer-ui": "web-ui",
        "marketplace-ui": "web-ui",
        "wallet-daemon": "key-management-daemon",  # "Cryptographic key management"
        "postgresql": "postgresql",
        "redis": "redis",
        "kubernetes": "kubernetes",
    }


def test_severities_from_the_playbook(aitbc):
    got = [(s.id, str(s.response_time), str(s.escalation_after)) for s in aitbc.severities]
    assert got == [("P0", "5m", "15m"), ("P1", "15m", "1h"), ("P2", "1h", "4h"), ("P3", "4h", "1d")]
    assert [s.rank for s in aitbc.severities] == [0, 1, 2, 3]
    assert aitbc.severity("P3").escalation_after == D("24h")
    # "SMS: Critical alerts only", "Phone: Critical incidents only"
    assert {s.id for s in aitbc.severities if {"sms", "phone"} & set(s.channels)} == {"P0"}
    assert not aitbc.severity("P3").pages


def test_notification_timings_follow_the_response_and_escalation_times(aitbc):
    p0 = aitbc.severity("P0")
    # By the documented rule: wait a tenth of the 5m response time (30s), batch at a
    # fifth (1m), repeat three times within the 15m escalation delay (5m).
    assert (p0.group_wait, p0.group_interval, p0.repeat_interval) == (D("30s"), D("1m"), D("5m"))
    assert p0.repeat_interval < D("15m")
    for s in aitbc.severities:
        assert s.group_wait <= s.response_time, s.id
        assert s.repeat_interval <= s.escalation_after, s.id
    # P3 never pages: it repeats once per escalation delay, not three times.
    assert aitbc.severity("P3").repeat_interval == D("24h")


WORKBOOK = [  # SRE workbook, chapter 5, table 5-8: factor, long window, short window
    ("page-fast", "page", "P0", D("1h"), D("5m"), Decimal("14.4")),
    ("page-slow", "page", "P0", D("6h"), D("30m"), Decimal("6")),
    ("ticket-fast", "ticket", "P2", D("1d"), D("2h"), Decimal("3")),
    ("ticket-slow", "ticket", "P2", D("3d"), D("6h"), Decimal("1")),
]


def _tiers(slo):
    return [(t.name, t.alert, t.severity, t.long, t.short, t.factor) for t in slo.tiers]


def test_30_day_999_slo_has_the_workbook_burn_tiers(aitbc):
    slo = next(o for o in aitbc.slos if o.id == "availability" and o.service == "coordinator-api")
    assert (slo.objective, slo.window, slo.error_budget) == (Decimal("0.999"), D("30d"), Decimal("0.001"))
    assert _tiers(slo) == WORKBOOK


def test_daily_marketplace_slo_tiers_are_scaled_by_the_documented_rule(aitbc):
    slo = next(o for o in aitbc.slos if o.service == "marketplace-ui")
    assert (slo.objective, slo.window) == (Decimal("0.995"), D("1d"))
    # period/30d = 1/30. Long windows: 1h/30 = 2m -> the 5m floor; 6h/30 = 12m;
    # 1d/30 = 48m; 3d/30 = 144m. Short windows: long/12 rounded to minutes, at least
    # 4 scrape intervals (4 x 30s = 2m): 0m -> 2m, 1m -> 2m, 4m, 12m.
    # Factors keep the share of the daily budget spent (2%, 5%, 10%, 10% of 1440m):
    # 0.02*1440/5 = 5.76, 0.05*1440/12 = 6, 0.1*1440/48 = 3, 0.1*1440/144 = 1.
    assert _tiers(slo) == [
        ("page-fast", "page", "P0", D("5m"), D("2m"), Decimal("5.76")),
        ("page-slow", "page", "P0", D("12m"), D("2m"), Decimal("6")),
        ("ticket-fast", "ticket", "P2", D("48m"), D("4m"), Decimal("3")),
        ("ticket-slow", "ticket", "P2", D("2h24m"), D("12m"), Decimal("1")),
    ]


def test_burn_factor_is_capped_where_the_budget_is_large():
    # A 90% objective: 14.4 x 10% = 144% errors could never happen; the cap is 1/0.1 = 10.
    tiers = burn_tiers(D("30d"), Decimal("0.1"), D("30s"), "P0", "P2")
    assert [t.factor for t in tiers] == [Decimal("10"), Decimal("6"), Decimal("3"), Decimal("1")]


def test_slo_table_of_the_playbook(aitbc):
    got = {(o.service, o.id): (o.type, o.objective, o.threshold, str(o.window)) for o in aitbc.slos}
    assert got == {
        ("coordinator-api", "availability"): ("availability", Decimal("0.999"), None, "30d"),
        ("coordinator-api", "latency"): ("latency", Decimal("0.95"), Decimal("0.2"), "30d"),
        ("blockchain-node", "block-time"): ("average", Decimal("1"), Decimal("2"), "1d"),
        ("marketplace-ui", "success-rate"): ("success_rate", Decimal("0.995"), None, "1d"),
        ("explorer-ui", "latency"): ("latency", Decimal("0.95"), Decimal("0.5"), "30d"),
    }
    assert next(o for o in aitbc.slos if o.type == "average").tiers == ()


def test_rotation_reproduces_the_three_week_table(aitbc):
    rot = aitbc.rotation("aitbc-oncall")
    start = dt.datetime(2024, 12, 23, 8, 0)    # Monday 08:00 UTC (the handoff)
    shifts = rot.shifts(start, 4)
    assert [(b, e) for b, e, _ in shifts] == [
        (start + dt.timedelta(weeks=i), start + dt.timedelta(weeks=i + 1)) for i in range(4)]
    assert [who for _, _, who in shifts] == [
        {"primary": "alice", "secondary": "bob", "tertiary": "carol"},   # Week 1
        {"primary": "bob", "secondary": "carol", "tertiary": "alice"},   # Week 2
        {"primary": "carol", "secondary": "alice", "tertiary": "bob"},   # Week 3
        {"primary": "alice", "secondary": "bob", "tertiary": "carol"},   # and again
    ]
    week2 = start + dt.timedelta(weeks=1)
    assert rot.holder("primary", week2 - dt.timedelta(minutes=1)) == "alice"
    assert rot.holder("primary", week2) == "bob"


def test_escalation_policies(aitbc):
    targets = {p.severity: [(lv.target.kind, lv.target.id, lv.target.tier) for lv in p.levels]
               for p in aitbc.policies}
    four = [("rotation", "aitbc-oncall", "primary"), ("rotation", "aitbc-oncall", "secondary"),
            ("rotation", "aitbc-oncall", "tertiary"), ("person", "engineering-manager", None)]
    assert targets == {"P0": four + [("person", "cto", None)], "P1": four, "P2": four}
    assert {p.severity: p.delay for p in aitbc.policies} == {"P0": D("15m"), "P1": D("1h"), "P2": D("4h")}
    assert aitbc.policy("P3") is None


def test_one_pagerduty_service_per_service_and_paging_severity(aitbc):
    assert len(aitbc.pagerduty_services) == 8 * 3
    pd = aitbc.pagerduty_service("coordinator-api", "P0")
    assert (pd.id, pd.policy, pd.tf_name) == ("coordinator-api-p0", "p0", "coordinator_api_p0")
    assert pd.routing_key_file == "/etc/alertmanager/secrets/pagerduty/coordinator-api-p0.key"


def test_rule_levels_written_in_spec_units(aitbc):
    api = aitbc.service("coordinator-api")
    alerts = {a.rule: a for a in api.alerts}
    assert [(lv.severity, lv.threshold) for lv in alerts["error-rate"].levels] == [
        ("P1", Decimal("0.1")), ("P2", Decimal("0.05"))]
    assert [(lv.severity, lv.threshold) for lv in alerts["response-time"].levels] == [
        ("P1", Decimal("1")), ("P2", Decimal("0.5"))]
    # a runbook-only override keeps the rule's levels and names the service's runbook
    assert alerts["error-rate"].runbook == "high-error-rate"


INHERIT = """
    services:
      api:
        name: API
        kind: http-api
        selector: {job: api}
        histogram_buckets: [0.1, 0.5, 1]
        runbooks:
          errors: {title: Errors, steps: [Read the logs]}
        alerts:
          error-rate: {levels: {P1: 20%}, for: 10m}
      web:
        name: Web
        kind: http-api
        selector: {job: web}
        runbooks:
          errors: {title: Errors, steps: [Read the logs]}
"""


def test_a_service_override_changes_only_that_service(tmp_path):
    base = (REPO_ROOT / "tests/specs/minimal.yaml").read_text(encoding="utf-8")
    head = base[: base.index("services:\n")]
    (tmp_path / "spec.yaml").write_text(head + textwrap.dedent(INHERIT).lstrip(), encoding="utf-8")
    model = model_of(tmp_path / "spec.yaml")
    rule = {s.id: next(a for a in s.alerts if a.rule == "error-rate") for s in model.services}
    assert [(lv.severity, lv.threshold) for lv in rule["api"].levels] == [("P1", Decimal("0.2"))]
    assert rule["api"].for_ == D("10m")
    assert [(lv.severity, lv.threshold) for lv in rule["web"].levels] == [
        ("P1", Decimal("0.1")), ("P2", Decimal("0.05"))]
    assert rule["web"].for_ == D("5m")
    # unchanged parts are inherited; each alert is positioned where it is defined
    assert rule["api"].summary == rule["web"].summary
    assert (rule["web"].pos.line, rule["web"].pos.column) == (42, 3)     # alert_rules.error-rate
    assert (rule["api"].pos.line, rule["api"].pos.column) == (59, 7)     # services.api.alerts.error-rate


def test_stable_id_is_readable_and_at_most_40_characters(aitbc):
    assert stable_id("AITBC", "slo", "coordinator-api") == "aitbc-slo-coordinator-api"
    long_a = stable_id("AITBC", "red", "a-very-long-service-name-for-testing-limits")
    long_b = stable_id("AITBC", "red", "a-very-long-service-name-for-testing-limitz")
    for uid in (long_a, long_b):
        assert len(uid) == 40 and uid.startswith("aitbc-red-a-very-long")
    assert long_a != long_b and long_a == stable_id("AITBC", "red", "a-very-long-service-name-for-testing-limits")
    uids = [aitbc.dashboard_uid(d.id) for d in aitbc.dashboards]
    uids += [aitbc.dashboard_uid(kind, s.id) for kind in ("slo", "red") for s in aitbc.services]
    assert all(len(u) <= 40 for u in uids) and len(set(uids)) == len(uids)


def test_burn_severities_default_to_the_most_severe_and_the_last_paging_severity(tmp_path):
    # minimal.yaml: P1 pages (pagerduty channel), P2 only posts to Slack. Without
    # slo_defaults the page tier takes P1 (most severe) and the ticket tier P1 too
    # (the least severe severity that still pages).
    base = (REPO_ROOT / "tests/specs/minimal.yaml").read_text(encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(base.replace("slo_defaults: {page_severity: P1, ticket_severity: P2}\n", ""), encoding="utf-8")
    slo = model_of(spec).slos[0]
    assert {(t.alert, t.severity) for t in slo.tiers} == {("page", "P1"), ("ticket", "P1")}


BAD_DURATION = """
    services:
      api:
        name: API
        kind: http-api
        selector: {job: api}
        alerts:
          error-rate: {for: 1m1h}
      web:
        name: Web
        kind: http-api
        selector: {job: web}
        alerts:
          error-rate: {for: 1m1h}
"""


def test_a_duration_that_does_not_parse_is_reported_at_each_place_it_is_written(tmp_path):
    # "1m1h" matches the schema's pattern but puts the units out of order; parsed texts are
    # remembered, failures are not: each service's alert gets its own problem.
    base = (REPO_ROOT / "tests/specs/minimal.yaml").read_text(encoding="utf-8")
    head = base[: base.index("services:\n")]
    (tmp_path / "spec.yaml").write_text(head + textwrap.dedent(BAD_DURATION).lstrip(), encoding="utf-8")
    doc = load(tmp_path / "spec.yaml")
    assert validate(doc) == []
    with pytest.raises(SpecError) as err:
        build_model(doc)
    assert sorted(p.path for p in err.value.problems) == [
        "services.api.alerts.error-rate.for", "services.web.alerts.error-rate.for"]


def test_indexed_lookups_answer_what_a_scan_of_the_model_answers(aitbc):
    for svc in aitbc.services:
        for sev in aitbc.severities:
            scan = [p for p in aitbc.pagerduty_services if p.service == svc.id and p.severity == sev.id]
            assert aitbc.pagerduty_service(svc.id, sev.id) is (scan[0] if scan else None)
    for sev in aitbc.severities:
        scan = [p for p in aitbc.policies if p.severity == sev.id]
        assert aitbc.policy(sev.id) is (scan[0] if scan else None)
    assert aitbc.pagerduty_service("no-such-service", "P0") is None
    assert aitbc.alerts == tuple(a for s in aitbc.services for a in s.alerts)
    assert aitbc.slos == tuple(o for s in aitbc.services for o in s.slos)
    assert aitbc.dashboard_uid("slo", "coordinator-api") == stable_id("AITBC", "slo", "coordinator-api")
