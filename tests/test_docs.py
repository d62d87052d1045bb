"""The docs target: runbook anchors match every alert's runbook_url, the handbook follows the
playbook, output is deterministic, and the templates run sandboxed with StrictUndefined."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from generators import docs
from generators.compiler import compile_spec
from generators.spec.model import camel

from conftest import REPO_ROOT


@pytest.fixture(scope="module")
def compiled():
    cwd = os.getcwd()
    os.chdir(REPO_ROOT)
    try:
        return compile_spec(Path("spec"))
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def files(compiled) -> dict[str, str]:
    return {f.path: f.content for f in compiled.files}


def _anchors(text: str) -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"></a>', text))


def _check_url(url: str, files: dict[str, str], base: str) -> str | None:
    """None when `url` lands on an anchor of a generated page, else why not."""
    parts = urlsplit(url)
    page = parts.path.rsplit("/", 1)[-1]
    if f"{parts.scheme}://{parts.netloc}" != base or not page.endswith(".html"):
        return f"{url}: not a page under {base}"
    md = f"docs/runbooks/{page[:-len('.html')]}.md"
    if md not in files:
        return f"{url}: {md} was not generated"
    if parts.fragment not in _anchors(files[md]):
        return f"{url}: no anchor {parts.fragment!r} in {md}"
    return None


def test_every_generated_rules_runbook_url_has_its_anchor(files):
    rule_files = [p for p in files if re.match(r"prometheus/rules/.+\.ya?ml$", p)]
    assert rule_files, "the Prometheus target generated no rule files"
    urls = {}
    for path in rule_files:
        for group in yaml.safe_load(files[path])["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    urls[rule["alert"]] = rule["annotations"]["runbook_url"]
    # Every threshold alert of the spec (service x rule) is among them: camel(service, rule).
    assert {"CoordinatorApiHighErrorRate", "PostgresqlReplicaLag", "RedisDown", "Watchdog"} <= set(urls)
    bad = [why for url in urls.values() if (why := _check_url(url, files, "https://runbooks.aitbc.io"))]
    assert bad == []


def test_contract_alert_names_have_anchors(compiled, files):
    """Names derived from the spec by the naming contract, independently of any target."""
    model = compiled.model
    names = [(s.id, camel(s.id, a.rule)) for s in model.services for a in s.alerts]
    names += [(s.id, f"{camel(s.id, o.id)}ErrorBudgetBurn") for s in model.services for o in s.slos
              if o.type != "average"]
    names += [("blockchain-node", "BlockchainNodeBlockTimeObjectiveBreached"), ("prometheus", "Watchdog")]
    assert len(names) > 40
    bad = [why for sid, name in names
           if (why := _check_url(f"https://runbooks.aitbc.io/{sid}.html#{name.lower()}", files,
                                 "https://runbooks.aitbc.io"))]
    assert bad == []


def test_runbook_section_carries_the_playbooks_steps_condition_dashboard_and_route(files):
    page = files["docs/runbooks/coordinator-api.md"]
    section = page.split('<a id="coordinatorapihigherrorrate"></a>')[1].split("<a id=")[0]
    # Playbook, "Coordinator API / High Error Rate"
    assert "5xx errors >5%" in section and "response time >500ms" in section
    assert "1. Check pod health: `kubectl get pods -l app=coordinator`" in section
    assert "5. Scale if needed: `kubectl scale deployment coordinator --replicas=5`" in section
    # spec: levels {P1: 5%}, for 5m, and latency > 500ms
    assert "> 0.05" in section and "> 0.5" in section and "`5m`" in section
    assert "https://grafana.aitbc.io/d/aitbc-red-coordinator-api" in section
    assert "pagerduty-coordinator-api-p1" in section
    assert "Secondary On-Call (+1h)" in section      # P1 escalates after 1 hour


def test_handbook_rotation_table_is_the_playbooks_from_the_fixed_start(files):
    text = files["docs/oncall-handbook.md"]
    # Playbook "Team Structure", shifts from the anchor 2024-12-23, handoff Monday 08:00
    assert "| 1 | 2024-12-23 08:00 | 2024-12-30 08:00 | Alice | Bob | Carol |" in text
    assert "| 2 | 2024-12-30 08:00 | 2025-01-06 08:00 | Bob | Carol | Alice |" in text
    assert "| 3 | 2025-01-06 08:00 | 2025-01-13 08:00 | Carol | Alice | Bob |" in text
    assert "| 4 | 2025-01-13 08:00 | 2025-01-20 08:00 | Alice | Bob | Carol |" in text


def test_handbook_severities_escalation_and_processes(files):
    text = files["docs/oncall-handbook.md"]
    assert "| P0 | Critical | 5m | 15m | SEV-0 |" in text
    assert "| P3 | Low | 4h | 1d | SEV-3 | slack, email | does not page |" in text
    mermaid = text.split("```mermaid\n")[1].split("```")[0]
    assert mermaid.startswith("flowchart TD\n")
    assert 'L1 -- "no ack: P0 15m · P1 1h · P2 4h" --> L2' in mermaid
    assert 'L4 -- "no ack: P0 15m" --> L5' in mermaid       # CTO: critical incidents only
    for heading in ("## Incident levels", "## Maintenance windows", "## Channels", "### Handoff procedure",
                    "## Incident response process", "## Post-incident process", "## Emergency procedures",
                    "## Training and onboarding", "## Contacts"):
        assert heading in text
    assert "every Sunday 02:00-04:00 UTC; mutes P2, P3" in text
    assert "**Emergency**: +1-555-EMERGENCY (Critical infrastructure only)" in text


def test_alert_catalogue_has_one_row_per_rule(compiled, files):
    model = compiled.model
    rows = [line for line in files["docs/alerts.md"].splitlines() if line.startswith("| ") and "](runbooks/" in line]
    names = {row.split(" | ")[0][2:] for row in rows}
    assert {a.name for a in model.alerts} <= names
    levels = sum(len(a.levels) for a in model.alerts)
    assert len([r for r in rows if r.split(" | ")[0][2:] in {a.name for a in model.alerts}]) == levels


def test_coverage_maps_playbook_sections_to_spec_and_files(files):
    text = files["docs/coverage.md"]
    row = next(line for line in text.splitlines() if line.startswith("| On-call rotation |"))
    assert "`rotations`" in row and "spec/aitbc.yaml:136" in row and "pagerduty/" in row
    assert any(line.startswith("| Maintenance windows |") and "alertmanager/" in line for line in text.splitlines())


def test_coverage_names_only_files_that_are_generated(files):
    rows = [line for line in files["docs/coverage.md"].splitlines() if line.startswith("| ") and "`" in line]
    named = {n for row in rows for n in re.findall(r"`([^`]+)`", row.rstrip(" |").rsplit(" | ", 1)[1])}
    assert len(named) >= 8
    for name in named:
        pattern = re.escape(name)
        for placeholder in ("<service>", "<slo>"):
            pattern = pattern.replace(re.escape(placeholder), "[a-z0-9-]+")
        assert any(re.match(pattern + ("" if name.endswith("/") else "$"), p) for p in files), name


def test_docs_are_deterministic_across_hash_seeds(files):
    script = ("import hashlib, os; from pathlib import Path; from generators.compiler import compile_spec;"
              "c = compile_spec(Path('spec'));"
              "print(hashlib.sha256(''.join(f.path + f.content for f in c.files"
              " if f.path.startswith('docs/')).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, check=True, text=True,
                              capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("0", "4242")}
    here = hashlib.sha256("".join(p + files[p] for p in sorted(files) if p.startswith("docs/")).encode()).hexdigest()
    assert digests == {here + "\n"}


def test_docs_end_with_one_newline_and_carry_the_header(files):
    for path in (p for p in files if p.startswith("docs/")):
        text = files[path]
        assert text.startswith("<!-- Generated by montool from spec/aitbc.yaml. DO NOT EDIT. -->\n"), path
        assert text.endswith("\n") and not text.endswith("\n\n") and "\r" not in text, path


def test_templates_run_sandboxed_with_strict_undefined():
    env = docs.environment()
    assert isinstance(env, SandboxedEnvironment) and env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(SecurityError):
        env.from_string("{{ x.__class__.__mro__ }}").render(x="")
    with pytest.raises(jinja2.UndefinedError):   # every real template is strict too
        env.get_template("runbook.md.j2").render()


@pytest.mark.parametrize("source, context", [
    ("{{ d.name }}", {"d": {"name": "api"}}),
    ("{{ d.items is callable }}|{{ d.keys is callable }}", {"d": {"items": 1, "keys": 2}}),  # methods win
    ("{{ d.count }}|{{ d.values is callable }}", {"d": {"count": 3}}),
    ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"a": 1, "b": 2}}),
    ("{{ d.rules | map(attribute='severity') | join(',') }}", {"d": {"rules": [{"severity": "P1"}, {"severity": "P2"}]}}),
    ("{{ s.upper() }}|{{ n.real }}", {"s": "x", "n": 4}),
])
def test_the_docs_environment_reads_contexts_as_the_plain_sandbox_does(source, context):
    plain = SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    assert docs.environment().from_string(source).render(**context) == plain.from_string(source).render(**context)


def test_the_docs_environment_refuses_what_the_sandbox_refuses():
    env = docs.environment()
    with pytest.raises(SecurityError):
        env.from_string("{{ d.__class__.__subclasses__() }}").render(d={"__class__": 1})
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ d.missing }}").render(d={"name": 1})
