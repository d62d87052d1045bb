"""Alertmanager target on the AITBC spec: amtool accepts the configuration and every
generated routing case, no secret leaks, receivers are consistent, and routing,
timings and inhibition follow the playbook.

Expected values are derived from the spec file itself (read here as plain YAML)
and from the playbook, not from the generator's helpers.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT
from generators import alertmanager
from generators.oncall import load_model
from generators.spec.values import Duration

SPEC = REPO_ROOT / "spec" / "aitbc.yaml"
RAW = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
SERVICES = list(RAW["services"])
SEVERITIES = list(RAW["severities"])
MATCHER = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|=~|!~)"(?:[^"\\]|\\.)*"$')


@pytest.fixture(scope="module")
def model():
    return load_model(SPEC)


@pytest.fixture(scope="module")
def files(model) -> dict[str, str]:
    return {f.path: f.content for f in alertmanager.generate(model)}


@pytest.fixture(scope="module")
def config(files) -> dict:
    return yaml.safe_load(files["alertmanager/alertmanager.yml"])


@pytest.fixture(scope="module")
def staged(files, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("am-stage")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


def walk(node, key=None):
    """(key, value) of every mapping entry, depth first."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, key)


def routes(route):
    yield route
    for child in route.get("routes", []):
        yield from routes(child)


def test_amtool_accepts_config_and_every_route_case(staged, model):
    assert alertmanager.validate(staged, model) == []
    cases = yaml.safe_load((staged / "alertmanager/tests/routes.yml").read_text())["routes"]
    # every severity x service, one unknown service per severity, Watchdog, unknown and missing severity
    assert len(cases) == len(SEVERITIES) * (len(SERVICES) + 1) + 3


def test_every_file_starts_with_the_generated_header(files):
    assert sorted(files) == ["alertmanager/alertmanager.yml", "alertmanager/templates/montool.tmpl",
                             "alertmanager/tests/routes.yml", "helm/alertmanager-values.yaml"]
    for path, text in files.items():
        assert "DO NOT EDIT" in text.splitlines()[0], path
        assert text.endswith("\n") and "\r" not in text


def test_a_wrong_expected_receiver_fails_naming_the_case(staged, model, tmp_path):
    broken = tmp_path / "stage"
    shutil.copytree(staged, broken)
    path = broken / "alertmanager/tests/routes.yml"
    doc = yaml.safe_load(path.read_text())
    case = next(c for c in doc["routes"] if c["name"] == "P0 redis")
    case["receivers"] = ["slack"]                      # the P0 page is missing
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    problems = alertmanager.validate(broken, model)
    assert len(problems) == 1
    p = problems[0]
    assert (p.rule, p.severity, p.path) == ("alertmanager/route", "error", "severities.P0")
    assert "'P0 redis'" in p.message and "pagerduty-redis-p0,slack" in p.message
    p0_line = SPEC.read_text().splitlines().index("  P0:") + 1
    assert p.line == p0_line


def test_a_config_amtool_rejects_is_an_error(staged, model, tmp_path):
    broken = tmp_path / "stage"
    shutil.copytree(staged, broken)
    cfg = broken / "alertmanager/alertmanager.yml"
    cfg.write_text(cfg.read_text().replace("receiver: deadmans-switch", "receiver: nobody", 1))
    problems = alertmanager.validate(broken, model)
    assert [p.rule for p in problems] == ["alertmanager/check-config"]
    assert "nobody" in problems[0].message


SECRETISH = [
    re.compile(r"^\s*(routing_key|service_key|api_url|url_file|auth_password|auth_secret|bearer_token)\s*:", re.M),
    re.compile(r"hooks\.slack\.com"),
    re.compile(r"\b(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{20,}\b"),   # key-like tokens
    re.compile(r"\bxox[abp]-"),                      # Slack tokens
]


def test_no_secret_value_in_any_output(files):
    secrets_dir = RAW["organization"]["alertmanager"]["secrets_dir"]
    for path, text in files.items():
        for pattern in SECRETISH:
            assert not pattern.search(text), (path, pattern.pattern)
    cfg = yaml.safe_load(files["alertmanager/alertmanager.yml"])
    secret_files = [v for k, v in walk(cfg) if k.endswith("_file")]
    # one key file per PagerDuty service (service x paging severity) and the Slack URL
    paging = [s for s, v in RAW["severities"].items() if "pagerduty" in v["channels"]
              and v.get("pagerduty", {}).get("urgency") != "none"]
    assert len(secret_files) == len(SERVICES) * len(paging) + 2   # Slack twice: its receiver and default
    assert all(f.startswith(secrets_dir + "/") for f in secret_files)


def test_receivers_referenced_exist_and_all_defined_are_reachable(config):
    defined = [r["name"] for r in config["receivers"]]
    assert len(defined) == len(set(defined))
    used = {r["receiver"] for r in routes(config["route"])}
    assert used == set(defined)


def test_matchers_syntax_only_with_quoted_values(config, files):
    keys = {k for k, _ in walk(config)}
    assert not keys & {"match", "match_re", "source_match", "source_match_re", "target_match", "target_match_re"}
    matchers = [m for k, v in walk(config) if k in ("matchers", "source_matchers", "target_matchers") for m in v]
    assert matchers and all(MATCHER.match(m) for m in matchers), [m for m in matchers if not MATCHER.match(m)]
    values = yaml.safe_load(files["helm/alertmanager-values.yaml"])["alertmanager"]["config"]
    assert not {k for k, _ in walk(values)} & {"match", "match_re"}


def test_watchdog_reaches_only_the_deadmans_switch(config):
    first = config["route"]["routes"][0]
    assert first["matchers"] == ['alertname="Watchdog"']
    assert first.get("continue", False) is False and "routes" not in first
    assert "mute_time_intervals" not in first          # maintenance never silences the heartbeat
    receiver = next(r for r in config["receivers"] if r["name"] == first["receiver"])
    url = RAW["channels"]["deadmans-switch"]["url"]
    assert {k: v for k, v in receiver.items() if k != "name"} == {
        "webhook_configs": [{"url": url, "send_resolved": False}]}
    others = [r for r in routes(config["route"]) if r is not first]
    assert all(r["receiver"] != first["receiver"] for r in others)


def expected_receivers(severity: str, service: str | None) -> list[str]:
    """From the spec: the service's PagerDuty receiver if the severity pages, then its
    Slack/email channels in the order listed (SMS and phone are PagerDuty's)."""
    sev = RAW["severities"][severity]
    out = []
    if "pagerduty" in sev["channels"] and sev["pagerduty"]["urgency"] != "none" and service:
        out.append(f"pagerduty-{service}-{severity.lower()}")
    out += [c for c in sev["channels"] if RAW["channels"][c]["type"] in ("slack", "email")]
    return out


def test_routing_table_follows_the_spec(model):
    table = {(labels.get("severity"), labels["service"], labels["alertname"] == "Watchdog"): receivers
             for labels, receivers in alertmanager.routing_table(model)}
    for sev in SEVERITIES:
        for svc in SERVICES:
            assert table[(sev, svc, False)] == expected_receivers(sev, svc), (sev, svc)
        assert table[(sev, "unknown-service", False)] == expected_receivers(sev, None)
    # the playbook: P0/P1 page and post to Slack, P2 pages (low urgency) and Slack, P3 Slack and email
    assert table[("P0", "redis", False)] == ["pagerduty-redis-p0", "slack"]
    assert table[("P2", "redis", False)] == ["pagerduty-redis-p2", "slack"]
    assert table[("P3", "redis", False)] == ["slack", "email"]
    assert table[("P3", "prometheus", True)] == ["deadmans-switch"]
    assert table[("unknown", SERVICES[0], False)] == ["default"]
    assert table[(None, SERVICES[0], False)] == ["default"]


def test_pagerduty_receivers(config):
    by_name = {r["name"]: r for r in config["receivers"]}
    for svc in SERVICES:
        for sev, spec in RAW["severities"].items():
            name = f"pagerduty-{svc}-{sev.lower()}"
            if spec["pagerduty"]["urgency"] == "none":
                assert name not in by_name
                continue
            (pd,) = by_name[name]["pagerduty_configs"]
            assert pd["severity"] == spec["pagerduty"]["severity"]
            assert pd["severity"] in ("critical", "error", "warning", "info")
            assert pd["routing_key_file"].endswith(f"/pagerduty/{svc}-{sev.lower()}.key")
            assert pd["component"] == "{{ .CommonLabels.service }}" and "signal" in pd["class"]
            assert "team" in pd["group"] and pd["client_url"] and pd["client"]
            assert [link["text"] for link in pd["links"]] == ["Runbook", "Dashboard"]
            assert {"runbook_url", "dashboard_url", "summary"} <= set(pd["details"])
    slack = by_name["slack"]["slack_configs"][0]
    assert slack["channel"] == "#on-call-aitbc" and slack["api_url_file"].endswith(".url")
    assert by_name["email"]["email_configs"][0]["to"] == "oncall@aitbc.io"
    assert config["global"]["smtp_smarthost"] == RAW["organization"]["alertmanager"]["smtp_smarthost"]
    assert config["global"]["smtp_from"] == RAW["organization"]["alertmanager"]["smtp_from"]


def severity_route(config, sev):
    return next(r for r in config["route"]["routes"] if r.get("matchers") == [f'severity="{sev}"'])


def test_timings_per_severity(config):
    assert config["route"]["group_by"][:2] == ["alertname", "service"]
    spec = RAW["severities"]
    p0 = severity_route(config, "P0")
    # a P0 repeats well inside its 15-minute escalation
    assert Duration.parse(p0["repeat_interval"]) < Duration.parse(spec["P0"]["escalation_after"])
    assert Duration.parse(spec["P0"]["escalation_after"]) == Duration.parse("15m")
    # a P3 does not nag: at most once per its escalation delay (24h)
    assert Duration.parse(severity_route(config, "P3")["repeat_interval"]) >= Duration.parse("24h")
    waits = [Duration.parse(severity_route(config, s)["group_wait"]) for s in SEVERITIES]
    assert waits == sorted(waits)
    for s in SEVERITIES:
        r = severity_route(config, s)
        assert Duration.parse(r["group_wait"]) <= Duration.parse(spec[s]["response_time"])
        assert Duration.parse(r["group_interval"]) <= Duration.parse(r["repeat_interval"])


def test_paging_routes_continue_to_slack(config):
    for sev in ("P0", "P1", "P2"):
        children = severity_route(config, sev)["routes"]
        assert [c["receiver"] for c in children] == [f"pagerduty-{s}-{sev.lower()}" for s in SERVICES] + ["slack"]
        assert all(c["continue"] is True for c in children[:-1])


def matches(matcher: str, labels: dict) -> bool:
    name, op, value = re.match(r'^(\w+)(=~|!~|!=|=)"(.*)"$', matcher).groups()
    have = labels.get(name, "")
    return {"=": have == value, "!=": have != value,
            "=~": re.fullmatch(value, have) is not None, "!~": re.fullmatch(value, have) is None}[op]


def inhibits(rules, source: dict, target: dict) -> bool:
    return any(all(matches(m, source) for m in r["source_matchers"])
               and all(matches(m, target) for m in r["target_matchers"])
               and all(source.get(k, "") == target.get(k, "") for k in r["equal"]) for r in rules)


def test_inhibition_rules(config, model):
    rules = config["inhibit_rules"]
    assert rules and all(r["equal"] and "service" in r["equal"] for r in rules)
    base = {"service": "redis", "alertname": "RedisMemoryPressure", "signal": "redis_memory_ratio"}
    assert inhibits(rules, {**base, "severity": "P1"}, {**base, "severity": "P2"})
    assert inhibits(rules, {**base, "severity": "P0"}, {**base, "severity": "P3"})
    assert not inhibits(rules, {**base, "severity": "P2"}, {**base, "severity": "P1"})
    assert not inhibits(rules, {**base, "severity": "P1"}, {**base, "severity": "P2", "service": "postgresql"})
    down = {"alertname": "CoordinatorApiDown", "severity": "P0", "service": "coordinator-api", "signal": "up"}
    for signal in ("error_ratio", "unavailable_ratio", "latency_p95", "probe_success", "error_budget_burn"):
        target = {"alertname": "X", "severity": "P1", "service": "coordinator-api", "signal": signal}
        assert inhibits(rules, down, target), signal
        assert not inhibits(rules, down, {**target, "service": "explorer-ui"}), signal
    assert not inhibits(rules, down, {"alertname": "CoordinatorApiQueueDepth", "severity": "P2",
                                      "service": "coordinator-api", "signal": "queue_depth"})
    burn = {"alertname": "CoordinatorApiAvailabilityErrorBudgetBurn", "service": "coordinator-api",
            "signal": "error_budget_burn", "slo": "availability"}
    assert inhibits(rules, {**burn, "burn": "page", "severity": "P0"}, {**burn, "burn": "ticket", "severity": "P2"})
    assert not inhibits(rules, {**burn, "burn": "ticket", "severity": "P2"}, {**burn, "burn": "page", "severity": "P0"})
    # the generated expectations (for the end-to-end suite) agree with the rules
    cases = alertmanager.inhibition_cases(model)
    assert any(c.inhibited for c in cases) and any(not c.inhibited for c in cases)
    for c in cases:
        assert inhibits(rules, c.source, c.target) == c.inhibited, c.name


def test_minimal_spec_without_deadmans_switch_warns(tmp_path):
    model = load_model(REPO_ROOT / "tests/specs/minimal.yaml")
    for f in alertmanager.generate(model):
        (tmp_path / f.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f.path).write_text(f.content)
    problems = alertmanager.validate(tmp_path, model)
    assert [(p.rule, p.severity) for p in problems] == [("alertmanager/deadmans-switch", "warning")]
    table = {(lb.get("severity"), lb["service"]): r for lb, r in alertmanager.routing_table(model)}
    assert table[("P1", "api")] == ["pagerduty-api-p1", "slack"]
    assert table[("P2", "api")] == ["slack"]
