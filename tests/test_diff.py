"""`montool diff`: semantic change reports between two specs or git revisions."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO_ROOT

from generators import cli
from generators.compiler import compile_spec
from generators.diff import compare, is_empty, render_markdown

AITBC = (REPO_ROOT / "spec" / "aitbc.yaml").read_text(encoding="utf-8")
START = dt.datetime(2024, 12, 23)


def _side(tmp_path: Path, name: str, text: str):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "aitbc.yaml").write_text(text, encoding="utf-8")
    return compile_spec(folder).model


def _edit(old: str, new: str) -> str:
    assert AITBC.count(old) == 1, old
    return AITBC.replace(old, new)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return _side(tmp_path_factory.mktemp("base"), "spec", AITBC)


def _others_empty(report: dict, *keep: str) -> None:
    assert {k for k, v in report.items() if not is_empty(v)} == set(keep)


def test_one_threshold_change_reports_exactly_that_alert(tmp_path, base):
    # coordinator-api's high-error-rate: P1 at 5% -> 7%
    head = _side(tmp_path, "head", _edit("        levels: {P1: 5%}\n        and:", "        levels: {P1: 7%}\n        and:"))
    report = compare(base, head, START)
    _others_empty(report, "alerts")
    alerts = report["alerts"]
    assert (alerts["added"], alerts["removed"]) == ([], [])
    assert alerts["changed"] == {
        "CoordinatorApiHighErrorRate": [{"what": "P1 threshold", "before": "> 5%", "after": "> 7%"}]}
    md = render_markdown(report, "main", "pr")
    assert "- alert `CoordinatorApiHighErrorRate` changed:\n  - P1 threshold: `> 5%` → `> 7%`" in md


def test_rotation_order_change_reports_who_is_on_call(tmp_path, base):
    head = _side(tmp_path, "head", _edit("members: [alice, bob, carol]", "members: [bob, alice, carol]"))
    report = compare(base, head, START, weeks=3)
    _others_empty(report, "oncall")
    (who,) = report["oncall"]["who"]
    # Before: week 1 Alice/Bob/Carol, week 2 Bob/Carol/Alice, week 3 Carol/Alice/Bob (playbook).
    # After, tiers offset 0/1/2 over [bob, alice, carol]:
    #   week 1 Bob/Alice/Carol, week 2 Alice/Carol/Bob, week 3 Carol/Bob/Alice.
    changes = {(c["from"], c["tier"], c["before"], c["after"]) for c in who["changes"]}
    assert changes == {
        ("2024-12-23 08:00", "primary", "Alice", "Bob"), ("2024-12-23 08:00", "secondary", "Bob", "Alice"),
        ("2024-12-30 08:00", "primary", "Bob", "Alice"), ("2024-12-30 08:00", "tertiary", "Alice", "Bob"),
        ("2025-01-06 08:00", "secondary", "Alice", "Bob"), ("2025-01-06 08:00", "tertiary", "Bob", "Alice"),
    }
    assert (who["shifts"], who["of"]) == (3, 3)
    assert "**Changes who is on call**: rotation `aitbc-oncall`, 3 of the next 3 shifts" in render_markdown(
        report, "a", "b")


def test_slo_objective_change_shows_the_new_burn_thresholds(tmp_path, base):
    head = _side(tmp_path, "head", _edit("        objective: 99.9\n", "        objective: 99.5\n"))
    changed = compare(base, head, START)["slos"]["changed"]["CoordinatorApiAvailability"]
    got = {c["what"]: (c["before"], c["after"]) for c in changed}
    assert got["objective"] == ("99.9%", "99.5%")
    # page-fast fires at 14.4 x budget: 14.4 x 0.1% = 1.44% before, 14.4 x 0.5% = 7.2% after
    assert got["burn page-fast"] == ("P0 14.4x over 1h/5m: error ratio > 1.44%",
                                     "P0 14.4x over 1h/5m: error ratio > 7.2%")


def test_escalation_routing_and_added_alert(tmp_path, base):
    text = _edit("    escalation_after: 15m\n", "    escalation_after: 10m\n")
    text = text.replace("      evictions:\n", "      latency-spike:\n        summary: Redis is slow.\n"
                        "        signal: eviction_rate\n        op: \">\"\n        levels: {P3: 100}\n"
                        "        for: 5m\n      evictions:\n", 1)
    report = compare(base, _side(tmp_path, "head", text), START)
    assert report["alerts"]["added"] == ["RedisLatencySpike"]
    p0 = {c["what"]: c["after"] for c in report["escalation"]["changed"]["P0"]}
    assert p0["escalation_after"] == "10m"
    assert "AITBC On-Call (secondary) (+10m)" in p0["path"] and "CTO (+40m)" in p0["path"]  # level 5: 4 x 10m
    assert report["routing"]["routes"]["changed"]            # the P0 route's repeat interval follows the delay


def test_git_revisions_and_json(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "spec").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "spec" / "aitbc.yaml", repo / "spec" / "aitbc.yaml")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(git + ["init", "-q"], cwd=repo, check=True)
    subprocess.run(git + ["add", "spec"], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-qm", "base"], cwd=repo, check=True)
    spec = repo / "spec" / "aitbc.yaml"
    spec.write_text(_edit("        levels: {P1: 50%}\n", "        levels: {P1: 40%}\n"))
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(cli.main, ["diff", "HEAD", "--format", "json", "--from", "2024-12-23"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["base"], out["head"]) == ("HEAD", "spec (working tree)")
    assert out["changes"]["alerts"]["changed"] == {
        "BlockchainNodePeersLow": [{"what": "P1 threshold", "before": "< 50%", "after": "< 40%"}]}
    same = CliRunner().invoke(cli.main, ["diff", "HEAD", "HEAD", "--from", "2024-12-23"], catch_exceptions=False)
    assert "No change to alerts" in same.output
    bad = CliRunner().invoke(cli.main, ["diff", "no-such-rev"], catch_exceptions=False)
    assert bad.exit_code == 2 and "neither a path nor a git revision" in bad.output
