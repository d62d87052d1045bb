"""The scenarios' checks: each reads what one pipeline's Alertmanager sent and raises
AssertionError when the on-call person would not have been paged the right way.

Every check takes the stack, the facts and a pipeline name, waits (bounded) until
what it expects has arrived or its time bound has passed, then asserts. The tests run
each against the `normal` pipeline, and the broken-config tests run the same function
against a deliberately broken pipeline and expect AssertionError.
"""
from __future__ import annotations

import time

from .amconfig import routing_key_for
from .recorder import Record, mentioning
from .rules import find
from .stack import Stack
from .world import (GRACE, GROUP_WAIT, OTHER_SERVICE, OUTAGE_SERVICE, SLACK, Facts, down_bound,
                    from_start_bound, resolve_bound)


def _wait_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _triggers(stack: Stack, pipeline: str, alertname: str, since: float = 0.0) -> list[Record]:
    return [r for r in mentioning(stack.recorder.select(pipeline, "pagerduty", since), alertname)
            if r.body.get("event_action") == "trigger"]


def _first_page(stack: Stack, pipeline: str, alertname: str, deadline: float, since: float = 0.0) -> Record | None:
    """The first trigger for `alertname` received by `deadline` (a later one does not count,
    however late the check runs)."""
    found = stack.recorder.wait(lambda: [r for r in _triggers(stack, pipeline, alertname, since) if r.at <= deadline],
                                deadline)
    return found[0] if found else None


def _assert_page(stack: Stack, rec: Record | None, service: str, severity: str, alertname: str) -> None:
    """A PagerDuty trigger for (service, severity): its key, severity, summary and runbook."""
    model = stack.model
    assert rec is not None, f"no PagerDuty trigger for {alertname} in time"
    pd = model.pagerduty_service(service, severity)
    assert pd is not None, f"{service} has no PagerDuty service at {severity}"
    assert rec.body.get("routing_key") == routing_key_for(pd.id), (
        f"{alertname} paged with routing key {rec.body.get('routing_key')!r}, "
        f"expected the key of {pd.id} ({pd.routing_key_file})")
    payload = rec.body.get("payload", {})
    expected = model.severity(severity).pd_severity
    assert payload.get("severity") == expected, f"PagerDuty severity {payload.get('severity')!r}, expected {expected!r}"
    rule = find(stack.rules, alertname, severity=severity)
    summary = rule.annotations.get("summary", "")
    assert summary and summary in payload.get("summary", ""), (
        f"PagerDuty summary {payload.get('summary')!r} lacks the alert's summary {summary!r}")
    runbook = model.runbook_url(service, alertname)
    assert runbook in [link.get("href") for link in rec.body.get("links", [])], (
        f"no runbook link {runbook} in {rec.body.get('links')}")


# --- scenarios ----------------------------------------------------------------------------

def check_outage_pages(stack: Stack, facts: Facts, pipeline: str) -> float:
    """Total outage: a P0 page with the service's P0 key, mapped severity, summary and runbook,
    and a Slack message, within the bound the spec's settings imply. Returns the seconds taken."""
    down, level = facts.down, facts.down.levels[0]
    rule = find(stack.rules, down.name, severity=level.severity)
    bound = down_bound(rule)
    start = facts.times.get("outage") or time.monotonic()
    rec = _first_page(stack, pipeline, down.name, start + bound)
    _assert_page(stack, rec, OUTAGE_SERVICE, level.severity, down.name)
    elapsed = rec.at - start
    print(f"\n{pipeline}: {down.name} paged {elapsed:.1f}s after the outage "
          f"(bound {bound:.0f}s = scrape + evaluation {rule.interval:.0f}s + for {rule.for_:.0f}s "
          f"+ group_wait {GROUP_WAIT:.0f}s + slack {SLACK:.0f}s)")
    assert elapsed <= bound, f"paged after {elapsed:.1f}s, over the bound of {bound:.0f}s"
    slack = stack.recorder.wait(lambda: mentioning(stack.recorder.select(pipeline, "slack"), down.name),
                                rec.at + SLACK)
    assert slack, f"no Slack message for {down.name}"
    channel = next(ch.slack_channel for ch in stack.model.channels if ch.type == "slack")
    assert slack[0].body.get("channel") == channel, f"Slack channel {slack[0].body.get('channel')!r}, expected {channel!r}"
    return elapsed


def check_inhibition(stack: Stack, facts: Facts, pipeline: str) -> None:
    """During the outage the service's error-rate, latency and burn alerts notify no one, while
    another service's error-rate alert still pages."""
    assert facts.events["inhibition"].wait(timeout=300), "the timeline never reached the inhibition step"
    t = facts.times
    assert "inject" in t, "the outage never became active"
    window = [r for r in stack.recorder.select(pipeline, since=t["inject"]) if r.at <= t["inhibition_end"]]
    for role, alert in facts.injected.items():
        name = alert["labels"]["alertname"]
        if role.startswith(OUTAGE_SERVICE + ":"):
            assert not mentioning(window, name), f"{name} notified although {facts.down.name} was firing"
    other = next(a for r, a in facts.injected.items() if r.startswith(OTHER_SERVICE + ":"))
    name, severity = other["labels"]["alertname"], other["labels"]["severity"]
    pages = [r for r in mentioning(window, name) if r.kind == "pagerduty"]
    _assert_page(stack, pages[0] if pages else None, OTHER_SERVICE, severity, name)


def check_recovery(stack: Stack, facts: Facts, pipeline: str) -> None:
    """When the service is back, a resolve event with the trigger's dedup key and routing key."""
    assert facts.events["recovery"].wait(timeout=300), "the timeline never reached the recovery step"
    down, level = facts.down, facts.down.levels[0]
    rule = find(stack.rules, down.name, severity=level.severity)
    triggers = _triggers(stack, pipeline, down.name)
    assert triggers, f"no trigger for {down.name} to resolve"
    key = triggers[0].body.get("dedup_key")

    def resolved():
        return [r for r in mentioning(stack.recorder.select(pipeline, "pagerduty", facts.times["recover"]), down.name)
                if r.body.get("event_action") == "resolve"]
    found = stack.recorder.wait(resolved, facts.times["recover"] + resolve_bound(rule))
    assert found, f"no resolve event for {down.name} within {resolve_bound(rule):.0f}s of recovery"
    assert found[0].body.get("dedup_key") == key, "the resolve event has another dedup key than the trigger"
    assert found[0].body.get("routing_key") == triggers[0].body.get("routing_key")


def check_slack_only(stack: Stack, facts: Facts, pipeline: str) -> None:
    """An alert at the severity whose channels have Slack but no paging reaches Slack, never PagerDuty."""
    alert = facts.injected["slack_only"]
    name = alert["labels"]["alertname"]
    start = facts.times["slack_only"]
    slack = stack.recorder.wait(lambda: mentioning(stack.recorder.select(pipeline, "slack"), name),
                                start + GROUP_WAIT + SLACK)
    assert slack, f"no Slack message for the {facts.slack_only} alert {name}"
    _wait_until(slack[0].at + GRACE)
    assert not mentioning(stack.recorder.select(pipeline, "pagerduty"), name), f"{name} reached PagerDuty"


def check_watchdog(stack: Stack, facts: Facts, pipeline: str) -> None:
    """The Watchdog reaches the dead man's switch and no other receiver."""
    rule = find(stack.rules, "Watchdog")
    hooks = stack.recorder.wait(lambda: mentioning(stack.recorder.select(pipeline, "webhook"), "Watchdog"),
                                stack.started_at + from_start_bound(rule))
    assert hooks, "the dead man's switch received no Watchdog"
    assert {r.name for r in hooks} == {"deadmans-switch"}, f"Watchdog webhooks went to {sorted({r.name for r in hooks})}"
    _wait_until(hooks[0].at + GRACE)
    elsewhere = [r for r in mentioning(stack.recorder.select(pipeline), "Watchdog") if r.kind != "webhook"]
    assert not elsewhere, f"the Watchdog also reached {sorted({r.kind for r in elsewhere})}"


def check_maintenance(stack: Stack, facts: Facts, pipeline: str, control: str = "normal") -> None:
    """In a maintenance window the muted severities notify no one; the others still page.

    The muted alert is the real replica-lag alert at its lowest level, which the `control`
    pipeline (no window in force) must have notified; plus the injected Slack-only alert."""
    lag, sev = facts.lag, facts.lag_severity
    window = next(w for w in stack.model.maintenance_windows if w.weekly)
    assert sev in window.mute_severities and facts.slack_only in window.mute_severities
    rule = find(stack.rules, lag.name, severity=sev)
    control_page = _first_page(stack, control, lag.name, stack.started_at + from_start_bound(rule))
    _assert_page(stack, control_page, "postgresql", sev, lag.name)
    _wait_until(control_page.at + GRACE)
    for name in (lag.name, facts.injected["slack_only"]["labels"]["alertname"]):
        sent = mentioning(stack.recorder.select(pipeline), name)
        assert not sent, f"{name} notified {sorted({r.kind for r in sent})} during maintenance"
    # Severities the window does not mute still page: the outage (P0) and the other service (P1).
    down = facts.down
    assert down.levels[0].severity not in window.mute_severities
    down_rule = find(stack.rules, down.name, severity=down.levels[0].severity)
    page = _first_page(stack, pipeline, down.name, facts.times["outage"] + down_bound(down_rule))
    _assert_page(stack, page, OUTAGE_SERVICE, down.levels[0].severity, down.name)
    assert facts.events["inhibition"].wait(timeout=300)
    other = next(a for r, a in facts.injected.items() if r.startswith(OTHER_SERVICE + ":"))
    name, severity = other["labels"]["alertname"], other["labels"]["severity"]
    if severity not in window.mute_severities:
        page = _first_page(stack, pipeline, name, facts.times["inhibition_end"], since=facts.times["inject"])
        _assert_page(stack, page, OTHER_SERVICE, severity, name)


def check_stalled_chain(stack: Stack, facts: Facts, pipeline: str) -> float:
    """No new blocks: a page at the consensus-stalled alert's severity, within its bound."""
    alert, level = facts.stalled, facts.stalled.levels[0]
    rule = find(stack.rules, alert.name, severity=level.severity)
    bound = from_start_bound(rule, more_scrapes=1)      # delta() needs two samples
    rec = _first_page(stack, pipeline, alert.name, stack.started_at + bound)
    _assert_page(stack, rec, "blockchain-node", level.severity, alert.name)
    elapsed = rec.at - stack.started_at
    print(f"\n{pipeline}: {alert.name} paged {elapsed:.1f}s after Prometheus's first scrapes (bound {bound:.0f}s)")
    assert elapsed <= bound, f"paged after {elapsed:.1f}s, over the bound of {bound:.0f}s"
    return elapsed


def check_no_false_pages(stack: Stack, facts: Facts, pipeline: str) -> None:
    """Healthy services page no one: every PagerDuty trigger is about an alert a scenario caused."""
    expected = {facts.down.name, facts.stalled.name, facts.lag.name}
    expected |= {a["labels"]["alertname"] for r, a in facts.injected.items() if r.startswith(OTHER_SERVICE + ":")}
    names = {r.alert for r in stack.rules}
    paged = {n for rec in stack.recorder.select(pipeline, "pagerduty") for n in names if rec.mentions(n)}
    assert paged - expected == set(), f"unexpected pages: {sorted(paged - expected)}"
