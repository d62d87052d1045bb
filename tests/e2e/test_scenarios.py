"""The scenarios an on-call person relies on, against the generated configuration.

Ordered by when each can be decided, so the session waits only for the slowest
(the alerts with a `for` of 2 minutes): about two and a half minutes in all.
"""
from __future__ import annotations

from . import scenarios


def test_watchdog_reaches_only_the_dead_mans_switch(e2e):
    scenarios.check_watchdog(*e2e, "normal")


def test_slack_only_severity_never_pages(e2e):
    scenarios.check_slack_only(*e2e, "normal")


def test_outage_pages_the_services_p0_with_summary_and_runbook(e2e):
    scenarios.check_outage_pages(*e2e, "normal")


def test_down_inhibits_the_services_symptoms_but_not_other_services(e2e):
    scenarios.check_inhibition(*e2e, "normal")


def test_recovery_resolves_with_the_same_dedup_key(e2e):
    scenarios.check_recovery(*e2e, "normal")


def test_stalled_blockchain_pages(e2e):
    scenarios.check_stalled_chain(*e2e, "normal")


def test_maintenance_mutes_the_muted_severities_only(e2e):
    scenarios.check_maintenance(*e2e, "maintenance")


def test_healthy_services_page_no_one(e2e):
    scenarios.check_no_false_pages(*e2e, "normal")
