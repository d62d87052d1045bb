"""`montool explain`: spec position, expression, routing, escalation and the SRE workbook numbers."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import REPO_ROOT

from generators import cli


@pytest.fixture
def explain(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)

    def run(*args: str):
        return CliRunner().invoke(cli.main, ["explain", *args], catch_exceptions=False)

    return run


def _line_of(pattern: str, after: str | None = None) -> int:
    lines = (REPO_ROOT / "spec" / "aitbc.yaml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if re.search(pattern, lines[i])) + 1


def test_availability_slo_shows_the_workbook_numbers(explain):
    result = explain("CoordinatorApiAvailability")
    assert result.exit_code == 0, result.output
    out = result.output
    line = _line_of(r"^\s+availability:$", after="coordinator-api:")
    assert f"at spec/aitbc.yaml:{line}" in out
    page_fast = next(s for s in out.splitlines() if "page-fast" in s)
    # 99.9% over 30d; 14.4x over 1h/5m: error ratio 14.4 x 0.1% = 1.44%;
    # budget spent = 14.4 x 1h / 720h = 2%; a total outage (error ratio 1) fills the 1h
    # window to 1.44% after 0.0144 h = 51.84 s.
    assert "14.4x over 1h/5m" in page_fast
    assert "error ratio > 1.44%" in page_fast
    assert "after 2% of the 30d budget" in page_fast
    assert "trips it after 52s" in page_fast
    slow = next(s for s in out.splitlines() if "page-slow" in s)
    # 6x over 6h/30m: 6 x 6h / 720h = 5%; 6 x 0.001 x 6h = 129.6 s
    assert "6x over 6h/30m" in slow and "after 5% of" in slow and "after 2m10s" in slow
    assert "error budget 0.1% (43m12s of total outage per 30d)" in out   # 0.001 x 30d


def test_burn_alert_routes_and_escalates(explain):
    out = explain("CoordinatorApiAvailabilityErrorBudgetBurn").output
    assert "14.4x over 1h/5m" in out             # the alert name leads to its SLO
    p0 = out.split("P0 (Critical, page burn)")[1].split("P2 (Medium")[0]
    assert "pagerduty-coordinator-api-p0" in p0
    # P0 escalates every 15 minutes; CTO (level 5) at 4 x 15m
    assert "1. Primary On-Call" in p0 and "2. Secondary On-Call (AITBC On-Call (secondary)) at +15m" in p0
    assert "5. CTO at +1h" in p0


def test_threshold_alert_shows_source_expression_and_route(explain):
    out = explain("coordinatorapihigherrorrate").output   # any case
    line = _line_of(r"^\s+high-error-rate:$", after="    alerts:")
    assert f"alert CoordinatorApiHighErrorRate (coordinator-api) at spec/aitbc.yaml:{line}" in out
    assert "P1 (High), for 5m, respond within 15m" in out
    assert 'code=~"5.."' in out and "> 0.05" in out and "> 0.5" in out
    assert "runbook: https://runbooks.aitbc.io/coordinator-api.html#coordinatorapihigherrorrate" in out
    assert "+1h" in out and "+4h" not in out    # P1's escalation delay is 1 hour


def test_non_paging_alert_says_so(explain):
    out = explain("KubernetesPodRestarts").output
    assert "P3 (Low)" in out and "does not page" in out


def test_json_and_unknown_names(explain):
    facts = json.loads(explain("CoordinatorApiAvailability", "--json").output)
    tier = facts["slo"]["tiers"][0]
    assert (tier["factor"], tier["long"], tier["short"], tier["budget_consumed"]) == ("14.4", "1h", "5m", "2%")
    result = explain("NoSuchAlert")
    assert result.exit_code == 2 and "no alert or SLO named 'NoSuchAlert'" in result.output
