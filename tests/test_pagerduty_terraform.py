"""`pagerduty/pagerduty.tf.json`, checked structurally against the provider's documentation.

The allow-lists are the arguments the PagerDuty provider documents for each
resource, data source and nested block (registry docs of PagerDuty/pagerduty 3.x:
r/schedule, r/escalation_policy, r/service, r/service_integration, d/user).
If `terraform` or `tofu` is on PATH, it parses the file (`providers`, offline);
if the provider is also installed in a local plugin directory, `validate` runs
too. The structural checks run either way.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from generators import pagerduty
from generators.oncall import load_model

TOP_LEVEL = {"//", "terraform", "data", "resource", "output"}
# block type -> (allowed arguments and nested blocks, required ones)
BLOCKS = {
    "data.pagerduty_user": ({"email"}, {"email"}),
    "pagerduty_schedule": ({"name", "time_zone", "description", "layer", "overflow", "teams"}, {"time_zone", "layer"}),
    "pagerduty_schedule.layer": (
        {"name", "start", "end", "rotation_virtual_start", "rotation_turn_length_seconds", "users", "restriction"},
        {"start", "rotation_virtual_start", "rotation_turn_length_seconds", "users"}),
    "pagerduty_escalation_policy": ({"name", "teams", "description", "num_loops", "rule"}, {"name", "rule"}),
    "pagerduty_escalation_policy.rule": (
        {"escalation_delay_in_minutes", "escalation_rule_assignment_strategy", "target"},
        {"escalation_delay_in_minutes", "target"}),
    "pagerduty_escalation_policy.rule.target": ({"type", "id"}, {"id"}),
    "pagerduty_service": (
        {"name", "description", "auto_resolve_timeout", "acknowledgement_timeout", "escalation_policy",
         "alert_creation", "alert_grouping", "alert_grouping_timeout", "alert_grouping_parameters",
         "incident_urgency_rule", "support_hours", "scheduled_actions"},
        {"name", "escalation_policy"}),
    "pagerduty_service.incident_urgency_rule": (
        {"type", "urgency", "during_support_hours", "outside_support_hours"}, {"type"}),
    "pagerduty_service_integration": (
        {"service", "name", "type", "vendor", "integration_key", "integration_email", "email_incident_creation",
         "email_filter_mode", "email_parsing_fallback", "email_filter", "email_parser"},
        {"service"}),
    "output": ({"value", "description", "sensitive", "depends_on"}, {"value"}),
}
NESTED = {"layer", "rule", "target", "incident_urgency_rule"}   # written as lists of block bodies
# attributes each block type exports, for `${...}` references
EXPORTS = {
    "data.pagerduty_user": {"id", "name", "role", "job_title", "time_zone", "description"},
    "pagerduty_schedule": {"id"},
    "pagerduty_escalation_policy": {"id"},
    "pagerduty_service": {"id", "last_incident_timestamp", "created_at", "status", "html_url"},
    "pagerduty_service_integration": {"id", "integration_key", "integration_email", "html_url"},
}
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
REFERENCE = re.compile(r"\$\{([^}]*)\}")
PLAYBOOK_TARGETS = [
    ("schedule_reference", "${pagerduty_schedule.aitbc_oncall_primary.id}"),
    ("schedule_reference", "${pagerduty_schedule.aitbc_oncall_secondary.id}"),
    ("schedule_reference", "${pagerduty_schedule.aitbc_oncall_tertiary.id}"),
    ("user_reference", "${data.pagerduty_user.engineering_manager.id}"),
]


@pytest.fixture(scope="module")
def tf_text() -> str:
    files = {f.path: f.content for f in pagerduty.generate(load_model(REPO_ROOT / "spec" / "aitbc.yaml"))}
    return files["pagerduty/pagerduty.tf.json"]


@pytest.fixture(scope="module")
def tf(tf_text) -> dict:
    return json.loads(tf_text)


def check_block(kind: str, body: dict, problems: list[str], where: str) -> None:
    allowed, required = BLOCKS[kind]
    problems += [f"{where}: unknown argument {k!r}" for k in sorted(set(body) - allowed)]
    problems += [f"{where}: missing {k!r}" for k in sorted(required - set(body))]
    for key in sorted(set(body) & NESTED):
        if not isinstance(body[key], list) or not body[key]:
            problems.append(f"{where}.{key}: a nested block is a non-empty list of bodies")
            continue
        for i, child in enumerate(body[key]):
            check_block(f"{kind}.{key}", child, problems, f"{where}.{key}[{i}]")


def structure_problems(tf: dict) -> list[str]:
    problems = [f"unknown top-level key {k!r}" for k in sorted(set(tf) - TOP_LEVEL)]
    provider = tf["terraform"]["required_providers"]["pagerduty"]
    if provider.get("source") != "PagerDuty/pagerduty" or not provider.get("version"):
        problems.append(f"provider requirement without source or version: {provider}")
    blocks = [(f"data.{t}", n, b) for t, named in tf.get("data", {}).items() for n, b in named.items()]
    blocks += [(t, n, b) for t, named in tf.get("resource", {}).items() for n, b in named.items()]
    blocks += [("output", n, b) for n, b in tf.get("output", {}).items()]
    for kind, name, body in blocks:
        if kind not in BLOCKS:
            problems.append(f"{kind}: not a block type of this target")
            continue
        if not IDENTIFIER.match(name):
            problems.append(f"{kind}.{name}: not a Terraform identifier")
        check_block(kind, body, problems, f"{kind}.{name}")
    return problems


def reference_problems(tf_text: str, tf: dict) -> list[str]:
    declared = {f"data.{t}.{n}": f"data.{t}" for t, named in tf.get("data", {}).items() for n in named}
    declared |= {f"{t}.{n}": t for t, named in tf.get("resource", {}).items() for n in named}
    problems = []
    for expr in REFERENCE.findall(tf_text):
        address, _, attribute = expr.rpartition(".")
        if address not in declared:
            problems.append(f"${{{expr}}}: {address} is not declared")
        elif attribute not in EXPORTS[declared[address]]:
            problems.append(f"${{{expr}}}: {declared[address]} exports no {attribute!r}")
    return problems


def test_structure_follows_the_provider_documentation(tf):
    assert structure_problems(tf) == []


def test_every_reference_resolves_to_a_declared_block(tf_text, tf):
    # 3 schedules x 3 users, 5 + 4 + 4 policy targets, and per service its policy, integration and output
    assert len(REFERENCE.findall(tf_text)) == 3 * 3 + (5 + 4 + 4) + 24 * 3
    assert reference_problems(tf_text, tf) == []


def test_the_checks_catch_what_they_look_for(tf_text, tf):
    broken = json.loads(tf_text)
    broken["resource"]["pagerduty_schedule"]["aitbc_oncall_primary"]["layers"] = []
    del broken["resource"]["pagerduty_escalation_policy"]["p0"]["rule"][0]["escalation_delay_in_minutes"]
    broken["resource"]["pagerduty_service"]["2bad"] = {"name": "x", "escalation_policy": "${x.y.id}"}
    assert sorted(structure_problems(broken)) == [
        "pagerduty_escalation_policy.p0.rule[0]: missing 'escalation_delay_in_minutes'",
        "pagerduty_schedule.aitbc_oncall_primary: unknown argument 'layers'",
        "pagerduty_service.2bad: not a Terraform identifier",
    ]
    text = tf_text.replace("${data.pagerduty_user.cto.id}", "${data.pagerduty_user.ceo.id}")
    text = text.replace(".integration_key}", ".routing_key}", 1)
    assert sorted(set(reference_problems(text, tf))) == [
        "${data.pagerduty_user.ceo.id}: data.pagerduty_user.ceo is not declared",
        "${pagerduty_service_integration.blockchain_node_p0.routing_key}: "
        "pagerduty_service_integration exports no 'routing_key'",
    ]


def test_users_are_looked_up_by_email(tf):
    users = tf["data"]["pagerduty_user"]
    assert users["alice"] == {"email": "alice@aitbc.io"}
    assert users["engineering_manager"] == {"email": "engineering-manager@aitbc.io"}
    assert "pagerduty_user" not in tf["resource"]


def test_policies_have_the_playbook_order_and_delays(tf):
    policies = tf["resource"]["pagerduty_escalation_policy"]
    assert sorted(policies) == ["p0", "p1", "p2"]
    for name, minutes in {"p0": 15, "p1": 60, "p2": 240}.items():
        rules = policies[name]["rule"]
        assert all(isinstance(r["escalation_delay_in_minutes"], int) and r["escalation_delay_in_minutes"] >= 1
                   for r in rules)
        assert {r["escalation_delay_in_minutes"] for r in rules} == {minutes}
        expected = PLAYBOOK_TARGETS + ([("user_reference", "${data.pagerduty_user.cto.id}")] if name == "p0" else [])
        assert [(t["type"], t["id"]) for r in rules for t in r["target"]] == expected
        assert policies[name]["num_loops"] == 2


def test_each_service_has_a_v2_integration_whose_key_is_a_sensitive_output(tf):
    services = tf["resource"]["pagerduty_service"]
    integrations = tf["resource"]["pagerduty_service_integration"]
    assert len(services) == 8 * 3 and sorted(integrations) == sorted(services)
    for name, body in services.items():
        assert body["escalation_policy"] == f"${{pagerduty_escalation_policy.{name[-2:]}.id}}"
        assert body["incident_urgency_rule"] == [{"type": "constant", "urgency": "severity_based"}]
        assert integrations[name]["type"] == "events_api_v2_inbound_integration"
        assert integrations[name]["service"] == f"${{pagerduty_service.{name}.id}}"
        output = tf["output"][f"routing_key_{name}"]
        assert output["sensitive"] is True
        assert output["value"] == f"${{pagerduty_service_integration.{name}.integration_key}}"
        key_file = f"/etc/alertmanager/secrets/pagerduty/{name.replace('_', '-')}.key"
        assert output["description"].endswith(key_file)


def provider_dir() -> Path | None:
    """A local plugin directory that already holds the PagerDuty provider (no download)."""
    home = Path.home()
    candidates = [os.environ.get("TF_PLUGIN_CACHE_DIR"), home / ".terraform.d" / "plugins",
                  home / ".local" / "share" / "terraform" / "plugins", "/usr/local/share/terraform/plugins",
                  "/usr/share/terraform/plugins"]
    for root in candidates:
        if root and (Path(root) / "registry.terraform.io" / "pagerduty" / "pagerduty").is_dir():
            return Path(root)
    return None


def test_terraform_accepts_the_file_when_it_is_installed(tf, tmp_path):
    # The structural checks above always run; these steps need a binary (parsing is
    # offline) and, for `validate`, a provider already in a local plugin directory.
    assert structure_problems(tf) == []
    binary = shutil.which("terraform") or shutil.which("tofu")
    if binary is None:
        return
    (tmp_path / "pagerduty.tf.json").write_text(json.dumps(tf), encoding="utf-8")
    parsed = subprocess.run([binary, "providers"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert parsed.returncode == 0, parsed.stderr
    assert "pagerduty/pagerduty] ~> 3.0" in parsed.stdout
    plugins = provider_dir()
    if plugins is None:
        return
    init = subprocess.run([binary, "init", "-backend=false", "-input=false", f"-plugin-dir={plugins}"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stderr
    result = subprocess.run([binary, "validate", "-json"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert json.loads(result.stdout)["valid"], result.stdout
