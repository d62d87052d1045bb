"""Each scenario notices the breakage it guards against: the same check, run against an
Alertmanager (or Prometheus) whose generated configuration was broken on purpose, fails."""
from __future__ import annotations

import pytest

from . import scenarios

BROKEN = [
    # (pipeline: what is broken there, the check that must fail, and how)
    ("broken-key", "receiver: the P0 key file of another service",
     scenarios.check_outage_pages, "paged with routing key"),
    ("broken-inhibit", "inhibit rule: the service-down rule removed",
     scenarios.check_inhibition, "notified although"),
    ("broken-watchdog", "route: the Watchdog route removed",
     scenarios.check_watchdog, "received no Watchdog"),
    ("broken-maintenance", "route: the maintenance mutes removed",
     scenarios.check_maintenance, "during maintenance"),
    ("broken-rule", "rule: the service-down comparison flipped",
     scenarios.check_outage_pages, "no PagerDuty trigger"),
]


@pytest.mark.parametrize("pipeline,what,check,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_config_fails_its_scenario(e2e, pipeline, what, check, message):
    with pytest.raises(AssertionError, match=message):
        check(*e2e, pipeline)
