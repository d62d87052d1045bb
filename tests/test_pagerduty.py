"""PagerDuty target: REST payloads against PagerDuty's OpenAPI schema, and the AITBC acceptance.

Expected values come from the playbook (three-week table, 15 min / 1 h / 4 h
escalation, CTO for critical incidents only) and from the spec's numbers.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

from conftest import REFERENCE, REPO_ROOT
from generators import pagerduty
from generators.oncall import load_model

SPEC = REPO_ROOT / "spec" / "aitbc.yaml"
OPENAPI_URI = "urn:pagerduty:rest-openapiv3"
COMPONENT = {"schedules": "Schedule", "escalation_policies": "EscalationPolicy", "services": "Service",
             "integrations": "Integration"}
WRAPPER = {"schedules": "schedule", "escalation_policies": "escalation_policy", "services": "service",
           "integrations": "integration"}
PLACEHOLDER = re.compile(r"^\{\{(user|schedule|escalation_policy|service):([^{}]+)\}\}$")

# The playbook's "Team Structure" table: week -> (primary, secondary, tertiary).
PLAYBOOK_WEEKS = {1: ("alice", "bob", "carol"), 2: ("bob", "carol", "alice"), 3: ("carol", "alice", "bob")}
MONITORED = ("coordinator-api", "blockchain-node", "explorer-ui", "marketplace-ui", "wallet-daemon",
             "postgresql", "redis", "kubernetes")
DELAY_MINUTES = {"p0": 15, "p1": 60, "p2": 4 * 60}


def generated(spec: Path) -> dict[str, str]:
    return {f.path: f.content for f in pagerduty.generate(load_model(spec))}


def spec_with(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = SPEC.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "aitbc.yaml"
    path.write_text(text, encoding="utf-8")
    return path


ADD_DAVE = ("  cto: {name: CTO, email: cto@aitbc.io}\n",
            "  cto: {name: CTO, email: cto@aitbc.io}\n  dave: {name: Dave, email: dave@aitbc.io}\n")


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return generated(SPEC)


@pytest.fixture(scope="module")
def openapi() -> tuple[dict, Registry]:
    doc = json.loads((REFERENCE / "pagerduty" / "rest-openapiv3.json").read_text(encoding="utf-8"))
    return doc, Registry().with_resource(OPENAPI_URI, DRAFT4.create_resource(doc))


def validator(openapi, pointer: str) -> Draft4Validator:
    return Draft4Validator({"$ref": f"{OPENAPI_URI}#{pointer}"}, registry=openapi[1])


def rest(files: dict[str, str], kind: str) -> dict[str, dict]:
    prefix = f"pagerduty/api/{kind}/"
    return {p[len(prefix):-len(".json")]: json.loads(c) for p, c in files.items() if p.startswith(prefix)}


# --- REST payloads ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(COMPONENT))
def test_every_rest_payload_validates_against_the_openapi_schema(files, openapi, kind):
    payloads = rest(files, kind)
    assert payloads
    component = validator(openapi, f"/components/schemas/{COMPONENT[kind]}")
    for name, payload in payloads.items():
        assert list(payload) == [WRAPPER[kind]], name
        errors = [e.message for e in component.iter_errors(payload[WRAPPER[kind]])]
        assert errors == [], f"{kind}/{name}: {errors}"
    if kind != "integrations":   # the POST body of /schedules, /escalation_policies, /services
        body = validator(openapi, f"/paths/~1{kind}/post/requestBody/content/application~1json/schema")
        for name, payload in payloads.items():
            assert [e.message for e in body.iter_errors(payload)] == [], name


def test_the_schema_check_rejects_a_broken_payload(files, openapi):
    policy = json.loads(files["pagerduty/api/escalation_policies/p0.json"])["escalation_policy"]
    policy["escalation_rules"][0]["targets"] = []
    policy["escalation_rules"][1]["escalation_delay_in_minutes"] = "15"
    schedule = json.loads(files["pagerduty/api/schedules/aitbc-oncall-primary.json"])["schedule"]
    del schedule["schedule_layers"][0]["rotation_virtual_start"]
    assert len(list(validator(openapi, "/components/schemas/EscalationPolicy").iter_errors(policy))) == 2
    assert len(list(validator(openapi, "/components/schemas/Schedule").iter_errors(schedule))) == 1


def test_rest_references_are_placeholders_that_name_declared_objects(files):
    names = {kind[:-1] if kind != "escalation_policies" else "escalation_policy":
             {p[WRAPPER[kind]]["name"] for p in rest(files, kind).values()} for kind in COMPONENT}
    names["user"] = {"alice@aitbc.io", "bob@aitbc.io", "carol@aitbc.io", "engineering-manager@aitbc.io",
                     "cto@aitbc.io"}
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "id" in node:
                refs.append((node["id"], node["type"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path, content in files.items():
        if path.startswith("pagerduty/api/"):
            walk(json.loads(content))
    assert len(refs) > 50
    for ref, type_ in refs:
        m = PLACEHOLDER.match(ref)
        assert m, ref
        assert type_ == f"{m.group(1)}_reference"
        assert m.group(2) in names[m.group(1)], ref


# --- AITBC acceptance -------------------------------------------------------------------

def on_call(layer: dict, when: dt.datetime) -> str:
    """PagerDuty's layer rule: turn k (from the virtual start) goes to users[k mod n]."""
    start = dt.datetime.fromisoformat(layer["rotation_virtual_start"])
    turns = (when - start) // dt.timedelta(seconds=layer["rotation_turn_length_seconds"])
    return layer["users"][turns % len(layer["users"])]["user"]["id"]


def test_three_schedules_reproduce_the_playbook_table(files):
    schedules = rest(files, "schedules")
    assert sorted(schedules) == ["aitbc-oncall-primary", "aitbc-oncall-secondary", "aitbc-oncall-tertiary"]
    first_monday = dt.datetime(2024, 12, 23, 8, 0, tzinfo=dt.timezone.utc)  # spec start, Monday 08:00 UTC
    for tier_index, tier in enumerate(("primary", "secondary", "tertiary")):
        body = schedules[f"aitbc-oncall-{tier}"]["schedule"]
        assert body["time_zone"] == "UTC"
        [layer] = body["schedule_layers"]
        assert layer["rotation_turn_length_seconds"] == 7 * 24 * 3600
        assert dt.datetime.fromisoformat(layer["start"]) == first_monday
        assert layer["rotation_virtual_start"] == layer["start"]
        for week, holders in PLAYBOOK_WEEKS.items():
            for probe in (dt.timedelta(0), dt.timedelta(days=6, hours=23, minutes=59)):
                when = first_monday + (week - 1) * dt.timedelta(weeks=1) + probe
                assert on_call(layer, when) == f"{{{{user:{holders[tier_index]}@aitbc.io}}}}", (tier, week)


def test_one_policy_per_paging_severity_with_the_playbook_delays_and_levels(files):
    policies = rest(files, "escalation_policies")
    assert sorted(policies) == ["p0", "p1", "p2"]
    tiers = [f"{{{{schedule:AITBC On-Call - {t}}}}}" for t in ("Primary", "Secondary", "Tertiary")]
    for key, payload in policies.items():
        body = payload["escalation_policy"]
        assert body["num_loops"] == 2
        rules = body["escalation_rules"]
        assert {r["escalation_delay_in_minutes"] for r in rules} == {DELAY_MINUTES[key]}
        targets = [r["targets"][0]["id"] for r in rules]
        expected = tiers + ["{{user:engineering-manager@aitbc.io}}"]
        if key == "p0":
            expected.append("{{user:cto@aitbc.io}}")
        assert targets == expected, key


def test_one_service_per_monitored_service_and_paging_severity(files):
    services = rest(files, "services")
    assert sorted(services) == sorted(f"{s}-{p}" for s in MONITORED for p in DELAY_MINUTES)
    policy_names = {k: p["escalation_policy"]["name"] for k, p in rest(files, "escalation_policies").items()}
    for key, payload in services.items():
        body = payload["service"]
        assert body["escalation_policy"]["id"] == f"{{{{escalation_policy:{policy_names[key[-2:]]}}}}}"
        assert body["incident_urgency_rule"] == {"type": "constant", "urgency": "severity_based"}
        assert (body["acknowledgement_timeout"], body["auto_resolve_timeout"]) == (30 * 60, 4 * 3600)
    integrations = rest(files, "integrations")
    assert sorted(integrations) == sorted(services)
    for key, payload in integrations.items():
        assert payload["integration"]["type"] == "events_api_v2_inbound_integration"
        assert payload["integration"]["service"]["id"] == f"{{{{service:{services[key]['service']['name']}}}}}"


def test_no_pagerduty_maintenance_windows_are_generated(files):
    # Muting is Alertmanager's (spec: P2 and P3 only); a PagerDuty window would silence P0/P1 too.
    assert not [p for p in files if "maintenance" in p]
    assert "pagerduty_maintenance_window" not in json.loads(files["pagerduty/pagerduty.tf.json"])["resource"]


def test_schedule_start_is_the_first_handoff_in_the_rotation_time_zone(tmp_path):
    cases = {
        # (spec start, timezone) -> first Monday 08:00 on or after start, with that day's offset
        ("2024-12-23", "America/New_York"): "2024-12-23T08:00:00-05:00",
        ("2024-07-01", "America/New_York"): "2024-07-01T08:00:00-04:00",
        ("2024-12-25", "Europe/Berlin"): "2024-12-30T08:00:00+01:00",
    }
    for (start, tz), expected in cases.items():
        spec = spec_with(tmp_path, ('start: "2024-12-23"', f'start: "{start}"'),
                         ("    timezone: UTC\n    # A fixed anchor", f"    timezone: {tz}\n    # A fixed anchor"))
        body = json.loads(generated(spec)["pagerduty/api/schedules/aitbc-oncall-primary.json"])["schedule"]
        assert body["time_zone"] == tz
        assert body["schedule_layers"][0]["start"] == expected
        assert body["schedule_layers"][0]["rotation_virtual_start"] == expected


def by_resource(files: dict[str, str]) -> dict[tuple, str]:
    """Every Terraform block and every REST file, keyed so that a diff names what changed."""
    tf = json.loads(files["pagerduty/pagerduty.tf.json"])
    out = {("rest", p): c for p, c in files.items() if p.startswith("pagerduty/api/")}
    for section in ("data", "resource"):
        for type_, blocks in tf.get(section, {}).items():
            out.update({(section, type_, name): json.dumps(body) for name, body in blocks.items()})
    out.update({("output", name): json.dumps(body) for name, body in tf.get("output", {}).items()})
    out.update({(key,): json.dumps(tf[key]) for key in tf if key not in ("data", "resource", "output")})
    return out


def changed(a: dict, b: dict) -> set:
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


@pytest.mark.parametrize("members", ["[carol, alice, bob]", "[alice, bob, carol, dave]"])
def test_changing_the_rotation_changes_only_the_schedules(tmp_path, members):
    base = by_resource(generated(spec_with(tmp_path, ADD_DAVE)))
    edited = by_resource(generated(spec_with(tmp_path, ADD_DAVE, ("members: [alice, bob, carol]",
                                                                 f"members: {members}"))))
    diff = changed(base, edited)
    tiers = ("primary", "secondary", "tertiary")
    assert diff == {("resource", "pagerduty_schedule", f"aitbc_oncall_{t}") for t in tiers} | {
        ("rest", f"pagerduty/api/schedules/aitbc-oncall-{t}.json") for t in tiers}


def test_four_members_rotate_in_each_tier_order(tmp_path):
    spec = spec_with(tmp_path, ADD_DAVE, ("members: [alice, bob, carol]", "members: [alice, bob, carol, dave]"))
    files = generated(spec)
    expected = {"primary": "alice bob carol dave", "secondary": "bob carol dave alice",
                "tertiary": "carol dave alice bob"}
    for tier, order in expected.items():
        layer = json.loads(files[f"pagerduty/api/schedules/aitbc-oncall-{tier}.json"])["schedule"][
            "schedule_layers"][0]
        assert [u["user"]["id"] for u in layer["users"]] == [f"{{{{user:{m}@aitbc.io}}}}" for m in order.split()]


def test_validate_reports_a_severity_whose_urgency_pagerduty_would_not_give(tmp_path):
    model = load_model(SPEC)
    assert pagerduty.validate(tmp_path, model) == []
    spec = spec_with(tmp_path, ("pagerduty: {urgency: high, severity: error}",
                                "pagerduty: {urgency: low, severity: error}"))
    [problem] = pagerduty.validate(tmp_path, load_model(spec))
    assert (problem.rule, problem.path, problem.is_error) == ("pagerduty/urgency", "severities.P1.pagerduty", True)
    assert problem.line == spec.read_text().splitlines().index("  P1:") + 1


def test_an_unset_or_zero_timeout_is_disabled_in_both_outputs(tmp_path, openapi):
    spec = spec_with(tmp_path, ("    acknowledgement_timeout: 30m\n", ""),
                     ("auto_resolve_timeout: 4h", "auto_resolve_timeout: 0s"))
    files = generated(spec)
    service = json.loads(files["pagerduty/api/services/redis-p1.json"])
    assert "acknowledgement_timeout" not in service["service"] and "auto_resolve_timeout" not in service["service"]
    assert list(validator(openapi, "/components/schemas/Service").iter_errors(service["service"])) == []
    tf = json.loads(files["pagerduty/pagerduty.tf.json"])["resource"]["pagerduty_service"]["redis_p1"]
    assert (tf["acknowledgement_timeout"], tf["auto_resolve_timeout"]) == ("null", "null")  # the provider's "off"
