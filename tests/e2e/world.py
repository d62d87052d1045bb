"""The AITBC end-to-end run: which pipelines exist, what the exporter does, and the timeline.

Pipelines (one Alertmanager each; see stack.py):
  normal               the generated configuration (endpoints and the timing override only)
  maintenance          plus `cover_now`: the maintenance window is in force
  broken-key           receiver broken: the Coordinator API P0 receiver reads another service's key
  broken-inhibit       inhibit rule removed: the service-down rule (`signal="up"` source)
  broken-watchdog      route removed: the Watchdog route
  broken-maintenance   maintenance in force, but the routes' mutes removed
  broken-rule          fed by a second Prometheus whose service-down rule has its
                       comparison flipped (`up < 1` becomes `up >= 1`)

Timeline (all concurrent, from the moment Prometheus is ready, t=0):
  before t=0  the blockchain is stalled and the PostgreSQL replica lags between its P2
              and P1 thresholds (both fire after their `for` of 2m)
  t=0         the Coordinator API goes down (its target answers 503, so up=0); a P3
              (Slack-only) alert is injected, since no P3 rule can fire in time (`for` 15m)
  Down active in every Alertmanager (~1-1.5 min): the Coordinator API's error-rate,
              latency and burn-rate alerts are injected (their `for` of 5m exceeds the
              budget), with the labels of their generated rules, together with another
              service's error-rate alert
  after that: the injected alerts are resolved and the Coordinator API recovers
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import amconfig
from .recorder import mentioning
from .rules import AlertRule, find, mutate_expr
from .stack import SCRAPE_INTERVAL, Pipeline, PrometheusVariant, Stack

SLACK = 8.0          # seconds of slack on every time bound: HTTP, scheduling, a loaded CI machine
GRACE = 2.0          # after the control notification, before asserting an absence
GROUP_WAIT = amconfig.seconds_of(amconfig.GROUP_WAIT)
GROUP_INTERVAL = amconfig.seconds_of(amconfig.GROUP_INTERVAL)
OUTAGE_SERVICE = "coordinator-api"
OTHER_SERVICE = "wallet-daemon"       # its error-rate alert must still page during the outage
INVERSE = {"<=": ">", "<": ">=", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _alert(model, service: str, signal: str):
    svc = model.service(service)
    hits = [a for a in svc.alerts if a.signal == signal and not a.also]
    assert hits, f"the spec has no {signal} alert on {service}"
    return hits[0]


@dataclass
class Facts:
    """What the AITBC run expects, from the spec (the model), and when things happened."""

    model: object
    down: object = None            # the Coordinator API's service-down Alert
    stalled: object = None         # the blockchain's no-new-blocks Alert
    lag: object = None             # PostgreSQL's replica-lag Alert
    lag_severity: str = ""         # the level the lag knob sits in (P2)
    slack_only: str = ""           # the severity that notifies Slack but never pages (P3)
    times: dict = field(default_factory=dict)
    events: dict = field(default_factory=lambda: {k: threading.Event() for k in ("inhibition", "recovery")})
    injected: dict = field(default_factory=dict)     # role -> alert dict

    def __post_init__(self):
        m = self.model
        self.down = _alert(m, OUTAGE_SERVICE, "up")
        self.stalled = _alert(m, "blockchain-node", "new_blocks")
        self.lag = _alert(m, "postgresql", "replica_lag_seconds")
        self.slack_only = next(s.id for s in m.severities if not s.pages and "slack" in s.channels)

    def lag_knob(self) -> float:
        """Between the lowest and the next level of the replica-lag alert (7.5 s for 5 s / 10 s)."""
        levels = sorted(lv.threshold for lv in self.lag.levels)
        self.lag_severity = next(lv.severity for lv in self.lag.levels if lv.threshold == levels[0])
        upper = levels[1] if len(levels) > 1 else levels[0] * 2
        return float((levels[0] + upper) / 2)


def breaking_rule(alert) -> callable:
    """The broken-rule variant: `alert`'s comparison flipped in the generated file."""
    good = alert.expr(alert.levels[0])
    bad = good.replace(f") {alert.op} ", f") {INVERSE[alert.op]} ", 1)
    assert bad != good

    def transform(src: Path, dst: Path) -> None:
        if alert.name in src.read_text():
            mutate_expr(src, dst, alert.name, good, bad)
        else:
            dst.write_bytes(src.read_bytes())
    return transform


def build(compiled, workdir: Path) -> tuple[Stack, Facts]:
    """The stack for the compiled AITBC spec, its pipelines, and the exporter's initial knobs."""
    stack = Stack(compiled, workdir, [], [])
    facts = Facts(stack.model)
    m = stack.model
    pd_down = m.pagerduty_service(OUTAGE_SERVICE, facts.down.levels[0].severity)
    other_pd = next(p for p in m.pagerduty_services if p.severity == pd_down.severity and p.service != OUTAGE_SERVICE)
    stack.prometheus_variants += [PrometheusVariant("main"), PrometheusVariant("broken", breaking_rule(facts.down))]
    ident = lambda c: c  # noqa: E731
    stack.pipelines += [
        Pipeline("normal", "main", ident),
        Pipeline("maintenance", "main", lambda c: amconfig.cover_now(c, m, now_utc())),
        Pipeline("broken-key", "main",
                 lambda c: amconfig.swap_routing_key(c, f"pagerduty-{pd_down.id}", _moved(c, other_pd))),
        Pipeline("broken-inhibit", "main", lambda c: amconfig.drop_inhibit_rules(c, "signal", facts.down.signal)),
        Pipeline("broken-watchdog", "main", lambda c: amconfig.drop_route(c, 'alertname="Watchdog"')),
        Pipeline("broken-maintenance", "main",
                 lambda c: amconfig.drop_mutes(amconfig.cover_now(c, m, now_utc()))),
        Pipeline("broken-rule", "broken", ident),
    ]
    stack.exporter.set("blockchain-node", stalled=True)
    stack.exporter.set("postgresql", replica_lag=facts.lag_knob())
    return stack, facts


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _moved(config: dict, pd) -> str:
    """The substituted path of `pd`'s key file in `config` (the receiver of `pd` reads it)."""
    name = f"pagerduty-{pd.id}"
    return next(c["routing_key_file"] for r in config["receivers"] if r["name"] == name
                for c in r["pagerduty_configs"])


# --- injected alerts ---------------------------------------------------------------------

def injected_alert(rule: AlertRule, **series_labels) -> dict:
    """An alert as Prometheus would send it for `rule` (labels and annotations of the generated
    rule; templated annotations are left as written)."""
    return {"labels": {"alertname": rule.alert, **rule.labels, **series_labels},
            "annotations": dict(rule.annotations)}


def inhibition_targets(stack: Stack) -> dict[str, dict]:
    """role -> alert: the outage service's error-rate, latency and page burn-rate alerts, and
    the other service's error-rate alert, each at its most severe level."""
    m, rules = stack.model, stack.rules
    out = {}
    for service in (OUTAGE_SERVICE, OTHER_SERVICE):
        for signal in ("error_ratio", "latency_p95"):
            a = _alert(m, service, signal)
            if service == OTHER_SERVICE and signal != "error_ratio":
                continue
            out[f"{service}:{signal}"] = injected_alert(find(rules, a.name, severity=a.levels[0].severity))
    slo = next(s for s in m.service(OUTAGE_SERVICE).slos if s.tiers)
    out[f"{OUTAGE_SERVICE}:burn"] = injected_alert(find(rules, f"{slo.name}ErrorBudgetBurn", burn="page"))
    return out


def slack_only_alert(stack: Stack, facts: Facts) -> dict:
    """A real generated rule at the Slack-only severity (pod restarts at P3: `for` 15m)."""
    for a in stack.model.alerts:
        for lv in a.levels:
            if lv.severity == facts.slack_only:
                rule = find(stack.rules, a.name, severity=lv.severity)
                extra = {label: f"e2e-{label}" for label in a.by}
                return injected_alert(rule, **extra)
    raise AssertionError(f"no alert at {facts.slack_only} in the spec")


# --- the timeline -----------------------------------------------------------------------

def drive(stack: Stack, facts: Facts) -> threading.Thread:
    """Start the timeline in a thread; `facts.times` and `facts.events` tell the checks."""
    t = facts.times
    down_rule = find(stack.rules, facts.down.name, severity=facts.down.levels[0].severity)
    facts.injected.update(inhibition_targets(stack))
    facts.injected["slack_only"] = slack_only_alert(stack, facts)

    main = [p for p in stack.pipelines if p.prometheus == "main"]

    def run():
        try:
            stack.exporter.set(OUTAGE_SERVICE, down=True)
            t["outage"] = time.monotonic()
            stack.inject([facts.injected["slack_only"]])
            t["slack_only"] = time.monotonic()
            deadline = t["outage"] + down_bound(down_rule)
            while time.monotonic() < deadline and not all(
                    stack.active_alerts(p.name, facts.down.name) for p in main):
                time.sleep(0.25)
            targets = [a for role, a in facts.injected.items() if role != "slack_only"]
            stack.inject(targets)
            t["inject"] = time.monotonic()
            other = next(a for r, a in facts.injected.items() if r.startswith(OTHER_SERVICE))
            stack.recorder.wait(lambda: all(mentioning(stack.recorder.select(p.name, "pagerduty", t["inject"]),
                                                        other["labels"]["alertname"])
                                            for p in main),
                                t["inject"] + GROUP_WAIT + SLACK)
            time.sleep(GRACE)
            t["inhibition_end"] = time.monotonic()
            facts.events["inhibition"].set()
            stack.inject(targets, resolve=True)
            stack.exporter.set(OUTAGE_SERVICE, down=False)
            t["recover"] = time.monotonic()
            facts.events["recovery"].set()
        finally:
            for e in facts.events.values():
                e.set()

    thread = threading.Thread(target=run, name="e2e-timeline", daemon=True)
    thread.start()
    return thread


# --- time bounds, from the spec's settings and the generated rules ----------------------

def down_bound(rule: AlertRule) -> float:
    """Outage to page: a scrape sees it, the next evaluation, `for`, group_wait, slack."""
    return SCRAPE_INTERVAL + rule.interval + rule.for_ + GROUP_WAIT + SLACK


def from_start_bound(rule: AlertRule, more_scrapes: int = 0) -> float:
    """A condition true since before t=0 (every target scraped once): `more_scrapes` if the
    expression needs more samples, the next evaluation, `for`, group_wait, slack."""
    return more_scrapes * SCRAPE_INTERVAL + rule.interval + rule.for_ + GROUP_WAIT + SLACK


def resolve_bound(rule: AlertRule) -> float:
    """Recovery to resolve event: a scrape, the next evaluation, group_interval, slack."""
    return SCRAPE_INTERVAL + rule.interval + GROUP_INTERVAL + SLACK
