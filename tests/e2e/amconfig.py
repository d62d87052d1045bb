"""What the end-to-end run changes in the generated Alertmanager configuration, and nothing else.

1. `substitute`: endpoints and secret paths only. `global.pagerduty_url`, every
   `url` of a PagerDuty, Slack or webhook integration, and the SMTP relay point at
   127.0.0.1; every path under the spec's `secrets_dir` moves to the run's own
   secrets folder, where the run writes one distinct test routing key per PagerDuty
   service and the recorder's Slack URL.
2. `shorten_group_timings`: THE one timing override. Every route that sets
   `group_wait` gets GROUP_WAIT and every route that sets `group_interval` gets
   GROUP_INTERVAL (the root gets both). `repeat_interval` is left as generated. Real
   group waits are 10 s to minutes; the scenarios' time bounds add GROUP_WAIT instead.
3. `cover_now` (maintenance scenario only): the maintenance windows' time intervals
   are replaced by one covering the current time (yesterday, today and tomorrow in
   the window's own location), so the generated mutes are in force during the test.

The mutations at the end break one generated rule, route, inhibit rule or receiver on
purpose; the broken-config tests prove the scenarios notice.
"""
from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from generators.spec.values import Duration

GROUP_WAIT = "1s"
GROUP_INTERVAL = "2s"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def seconds_of(duration: str) -> float:
    return Duration.parse(duration).seconds


def routing_key_for(pd_service_id: str) -> str:
    """The distinct test key the run writes to a PagerDuty service's routing_key_file."""
    return f"e2e-routing-key-{pd_service_id}"


def _walk_routes(route: dict):
    yield route
    for child in route.get("routes", []) or []:
        yield from _walk_routes(child)


def substitute(config: dict, model, *, secrets: Path, endpoint, smtp: str) -> dict:
    """A copy of `config` pointing at the test endpoints; writes the secret files it names.

    `endpoint(kind, name="")` gives the recorder URL for `pagerduty`, `slack` or
    `webhook` (named after the receiver).
    """
    cfg = copy.deepcopy(config)
    real = model.organization.secrets_dir.rstrip("/") + "/"
    g = cfg.setdefault("global", {})
    g["pagerduty_url"] = endpoint("pagerduty")
    if "slack_api_url" in g:
        g["slack_api_url"] = endpoint("slack")
    if "smtp_smarthost" in g:
        g["smtp_smarthost"] = smtp
    for receiver in cfg.get("receivers", []):
        for pd in receiver.get("pagerduty_configs", []) or []:
            if "url" in pd:
                pd["url"] = endpoint("pagerduty")
        for sl in receiver.get("slack_configs", []) or []:
            if "api_url" in sl:
                sl["api_url"] = endpoint("slack")
        for wh in receiver.get("webhook_configs", []) or []:
            wh["url"] = endpoint("webhook", receiver["name"])

    keys = {pd.routing_key_file: routing_key_for(pd.id) for pd in model.pagerduty_services}
    slack_files = {ch.api_url_file for ch in model.channels if ch.type == "slack" and ch.api_url_file}

    def move(value):
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v) for v in value]
        if isinstance(value, str) and value.startswith(real):
            target = secrets / value[len(real):]
            target.parent.mkdir(parents=True, exist_ok=True)
            if value in keys:
                target.write_text(keys[value] + "\n")
            elif value in slack_files:
                target.write_text(endpoint("slack") + "\n")
            else:
                raise AssertionError(f"the configuration names a secret file the spec does not: {value}")
            return str(target)
        return value

    return move(cfg)


def shorten_group_timings(config: dict) -> dict:
    """THE timing override of the end-to-end run (see the module docstring)."""
    cfg = copy.deepcopy(config)
    root = cfg["route"]
    for route in _walk_routes(root):
        if "group_wait" in route or route is root:
            route["group_wait"] = GROUP_WAIT
        if "group_interval" in route or route is root:
            route["group_interval"] = GROUP_INTERVAL
    return cfg


def cover_now(config: dict, model, now: dt.datetime) -> dict:
    """The maintenance override: each maintenance window's interval covers `now` (aware)."""
    cfg = copy.deepcopy(config)
    ids = {w.id for w in model.maintenance_windows}
    found = [ti for ti in cfg.get("time_intervals", []) if ti["name"] in ids]
    assert found, f"no time interval named after a maintenance window {sorted(ids)}"
    for ti in found:
        location = (ti.get("time_intervals") or [{}])[0].get("location", "UTC")
        local = now.astimezone(ZoneInfo(location))
        days = [WEEKDAYS[(local.weekday() + d) % 7] for d in (-1, 0, 1)]
        ti["time_intervals"] = [{"weekdays": days, "location": location}]
    return cfg


# --- deliberate breakage (for the broken-config tests) ---------------------------------

def drop_inhibit_rules(config: dict, source_label: str, source_value: str) -> dict:
    """Remove the inhibit rules whose source matchers select `source_label=source_value`."""
    cfg = copy.deepcopy(config)
    needle = f'{source_label}="{source_value}"'
    before = len(cfg.get("inhibit_rules", []))
    cfg["inhibit_rules"] = [r for r in cfg.get("inhibit_rules", [])
                            if needle not in r.get("source_matchers", [])]
    assert len(cfg["inhibit_rules"]) < before, f"no inhibit rule with source {needle}"
    return cfg


def swap_routing_key(config: dict, receiver: str, other_key_file: str) -> dict:
    """Point `receiver`'s PagerDuty integration at another service's routing key file."""
    cfg = copy.deepcopy(config)
    hit = [pd for r in cfg["receivers"] if r["name"] == receiver for pd in r.get("pagerduty_configs", [])]
    assert hit, f"no PagerDuty receiver {receiver}"
    for pd in hit:
        pd["routing_key_file"] = other_key_file
    return cfg


def drop_route(config: dict, matcher: str) -> dict:
    """Remove the routes (anywhere in the tree) that match on `matcher`."""
    cfg = copy.deepcopy(config)
    removed = 0
    for route in _walk_routes(cfg["route"]):
        kept = [c for c in route.get("routes", []) or [] if matcher not in c.get("matchers", [])]
        removed += len(route.get("routes", []) or []) - len(kept)
        if "routes" in route:
            route["routes"] = kept
    assert removed, f"no route matching {matcher}"
    return cfg


def drop_mutes(config: dict) -> dict:
    """Remove every `mute_time_intervals` from the routing tree."""
    cfg = copy.deepcopy(config)
    for route in _walk_routes(cfg["route"]):
        route.pop("mute_time_intervals", None)
    return cfg
