"""The Jsonnet example: one spec rendered for staging and production (`make example-envs`)."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from conftest import REPO_ROOT

from generators.compiler import build, compile_spec
from generators.docs import facts as F

SPEC = REPO_ROOT / "tests" / "specs" / "jsonnet-envs"


def _compile(env: str):
    return compile_spec(SPEC, ext_vars={"env": env}).model


def _receivers(model, alertname: str, severity: str) -> list[str]:
    rule = next(r for r in F.alert_rules(model) if r.name == alertname and r.severity == severity)
    return F.Routing(model).receivers_for(rule)


@pytest.mark.parametrize("env", ["staging", "production"])
def test_each_environment_builds_and_validates(env, tmp_path):
    err = io.StringIO()
    code = build(SPEC, tmp_path / env, ext_vars={"env": env}, stdout=io.StringIO(), stderr=err)
    assert code == 0, err.getvalue()
    assert (tmp_path / env / "docs" / "runbooks" / "coordinator-api.md").is_file()


def test_environments_differ_in_thresholds_and_receivers():
    staging, production = _compile("staging"), _compile("production")
    levels = {name: {lv.severity: lv.threshold for lv in next(a for a in m.alerts if a.rule == "error-rate").levels}
              for name, m in (("staging", staging), ("production", production))}
    assert levels == {"staging": {"P1": Decimal("0.25"), "P2": Decimal("0.1")},
                      "production": {"P1": Decimal("0.1"), "P2": Decimal("0.05")}}
    assert dict(staging.organization.labels)["environment"] == "staging"
    # Production pages through PagerDuty; staging only posts to its Slack channel.
    assert "pagerduty-coordinator-api-p1" in _receivers(production, "CoordinatorApiErrorRate", "P1")
    assert _receivers(staging, "CoordinatorApiErrorRate", "P1") == ["slack"]
    slack = next(r for r in F.am_config(staging)["receivers"] if r["name"] == "slack")
    assert slack["slack_configs"][0]["channel"] == "#aitbc-staging-alerts"


def test_an_unknown_environment_is_a_spec_error():
    from generators.spec.problems import SpecError

    with pytest.raises(SpecError, match="env must be staging or production"):
        compile_spec(SPEC, ext_vars={"env": "qa"})
