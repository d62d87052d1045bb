"""The expectations the generated configuration must meet, as data.

- `routing_cases`: label sets and the receivers they must reach, in order: every
  severity x service, each severity for a service the spec does not know, the
  Watchdog, an unknown severity and a missing one. `validate` proves each with a
  real Alertmanager's routing (see validate.py).
- `inhibition_cases`: source and target label sets and whether the source must
  inhibit the target. amtool cannot test inhibition; the end-to-end suite does.
- `maintenance_cases`: which severity x service each maintenance window mutes
  (end-to-end as well).

All three are written to `alertmanager/tests/routes.yml` and are pure functions
of the model, for reuse by other tests.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import plan
from .config import DOWN_INHIBITS, DOWN_SIGNAL

UNKNOWN_SERVICE = "unknown-service"
UNKNOWN_SEVERITY = "unknown"


@dataclass(frozen=True)
class RouteCase:
    name: str
    labels: dict
    receivers: list


@dataclass(frozen=True)
class InhibitionCase:
    name: str
    source: dict
    target: dict
    inhibited: bool


def routing_table(model) -> list[tuple[dict, list[str]]]:
    """(labels, expected receivers in order) for every routing case."""
    return [(c.labels, c.receivers) for c in routing_cases(model)]


# --- label sets ------------------------------------------------------------------------

def _labels(model, alertname: str, severity: str | None, service: str, team: str, signal: str, **extra) -> dict:
    out = {"alertname": alertname}
    if severity is not None:
        out["severity"] = severity
    out.update(service=service, team=team, signal=signal, **extra)
    out.update(dict(model.organization.labels))
    return out


def _burn_alerts(model, svc):
    """(alertname, signal, severity, extra labels) of the burn-rate alerts of `svc`."""
    for slo in svc.slos:
        for burn in ("page", "ticket"):
            sevs = [t.severity for t in slo.tiers if t.alert == burn]
            if sevs:
                yield f"{slo.name}ErrorBudgetBurn", "error_budget_burn", sevs[0], {"slo": slo.id, "burn": burn}


def _alerts_of(model, svc):
    """(alertname, signal, severity, extra labels) of every alert `svc` has."""
    for a in svc.alerts:
        for level in a.levels:
            yield a.name, a.signal, level.severity, {}
    yield from _burn_alerts(model, svc)


def service_alert(model, svc, severity) -> dict:
    """Labels of a real alert of `svc` at `severity`, or of a made-up one if it has none."""
    for name, signal, sev, extra in _alerts_of(model, svc):
        if sev == severity.id:
            return _labels(model, name, sev, svc.id, svc.team, signal, **extra)
    return _labels(model, f"{svc.camel}RoutingTest", severity.id, svc.id, svc.team, "routing_test")


# --- routing ---------------------------------------------------------------------------

def routing_cases(model) -> list[RouteCase]:
    org = model.organization
    last = model.severities[-1].id if model.severities else UNKNOWN_SEVERITY
    pagerduty = plan.pagerduty_index(model)
    cases = [RouteCase(plan.WATCHDOG, _labels(model, plan.WATCHDOG, last, "prometheus", org.team, "watchdog"),
                       [plan.DEADMANS_SWITCH])]
    for sev in model.severities:
        for svc in model.services:
            cases.append(RouteCase(f"{sev.id} {svc.id}", service_alert(model, svc, sev),
                                   plan.receivers_for(model, sev, svc.id, pagerduty)))
        cases.append(RouteCase(
            f"{sev.id} {UNKNOWN_SERVICE}",
            _labels(model, "UnknownServiceRoutingTest", sev.id, UNKNOWN_SERVICE, org.team, "routing_test"),
            plan.receivers_for(model, sev, None, pagerduty)))
    unknown = UNKNOWN_SEVERITY
    while model.severity(unknown):
        unknown += "-"
    service = model.services[0] if model.services else None
    sid, team = (service.id, service.team) if service else (UNKNOWN_SERVICE, org.team)
    cases.append(RouteCase("unknown severity", _labels(model, "UnknownSeverityRoutingTest", unknown, sid, team,
                                                       "routing_test"), [plan.DEFAULT]))
    cases.append(RouteCase("no severity label", _labels(model, "NoSeverityRoutingTest", None, sid, team,
                                                        "routing_test"), [plan.DEFAULT]))
    return cases


# --- inhibition ------------------------------------------------------------------------

def _other(model, svc):
    return next((s for s in model.services if s.id != svc.id), None)


def _short(labels: dict) -> dict:
    """The labels inhibition looks at (team and organisation labels do not matter)."""
    return {k: v for k, v in labels.items() if k in ("alertname", "severity", "service", "signal", "slo", "burn")}


def _elsewhere(model, svc, labels: dict) -> dict | None:
    other = _other(model, svc)
    return None if other is None else {**labels, "service": other.id}


def inhibition_cases(model) -> list[InhibitionCase]:
    """One case per inhibition pair the spec creates, and for each family of rules
    the counter-examples that must not inhibit (another service, the other direction,
    another SLO)."""
    out = []
    ranks = {s.id: s.rank for s in model.severities}
    # A higher severity inhibits a lower one of the same alert and service.
    for svc in model.services:
        for a in svc.alerts:
            levels = sorted((lv.severity for lv in a.levels if lv.severity in ranks), key=ranks.get)
            for hi, lo in zip(levels, levels[1:]):
                src = _short(_labels(model, a.name, hi, svc.id, svc.team, a.signal))
                dst = {**src, "severity": lo}
                out.append(InhibitionCase(f"{a.name} {hi} inhibits {lo}", src, dst, True))
                if not any(not c.inhibited for c in out):
                    out.append(InhibitionCase(f"{a.name} {lo} does not inhibit {hi}", dst, src, False))
                    other = _elsewhere(model, svc, dst)
                    if other:
                        out.append(InhibitionCase(f"{a.name} {hi} does not inhibit {lo} of {other['service']}",
                                                  src, other, False))
    # A service that is down inhibits its error, latency, probe and burn-rate alerts.
    counter = False
    for svc in model.services:
        down = next((a for a in svc.alerts if a.signal == DOWN_SIGNAL and a.levels), None)
        if down is None:
            continue
        src = _short(_labels(model, down.name, down.levels[0].severity, svc.id, svc.team, down.signal))
        seen = set()
        for name, signal, sev, extra in _alerts_of(model, svc):
            if signal not in DOWN_INHIBITS or name in seen:
                continue
            seen.add(name)
            dst = _short(_labels(model, name, sev, svc.id, svc.team, signal, **extra))
            out.append(InhibitionCase(f"{down.name} inhibits {name}", src, dst, True))
            other = _elsewhere(model, svc, dst)
            if other and not counter:
                counter = True
                out.append(InhibitionCase(f"{down.name} does not inhibit {name} of {other['service']}",
                                          src, other, False))
    # The page tier of an SLO inhibits its ticket tier, not another SLO's.
    for svc in model.services:
        burns = [(name, signal, sev, extra) for name, signal, sev, extra in _burn_alerts(model, svc)]
        for name, signal, sev, extra in burns:
            if extra["burn"] != "page":
                continue
            src = _short(_labels(model, name, sev, svc.id, svc.team, signal, **extra))
            for name2, _, sev2, extra2 in burns:
                if extra2["burn"] == "ticket":
                    dst = _short(_labels(model, name2, sev2, svc.id, svc.team, signal, **extra2))
                    same = extra2["slo"] == extra["slo"]
                    verb = "inhibits" if same else "does not inhibit"
                    out.append(InhibitionCase(f"{name} page {verb} {name2} ticket", src, dst, same))
    return out


# --- maintenance -----------------------------------------------------------------------

def maintenance_cases(model) -> list[dict]:
    """Per maintenance window: the severity -> services it mutes (others still notify;
    the Watchdog is never muted)."""
    out = []
    for w in model.maintenance_windows:
        if not (w.weekly or w.start):
            continue
        muted = {}
        for sev in model.severities:
            services = [s.id for s in model.services if w.id in plan.mutes_for(model, sev.id, s.id)]
            if w.id in plan.mutes_for(model, sev.id, None):
                services.append(UNKNOWN_SERVICE)
            if services:
                muted[sev.id] = services
        out.append({"time_interval": w.id, "muted": muted})
    return out


def document(model) -> dict:
    """The content of `alertmanager/tests/routes.yml`."""
    return {
        "config": "../alertmanager.yml",
        "routes": [{"name": c.name, "labels": c.labels, "receivers": c.receivers} for c in routing_cases(model)],
        "inhibitions": [{"name": c.name, "source": c.source, "target": c.target, "inhibited": c.inhibited}
                        for c in inhibition_cases(model)],
        "maintenance": maintenance_cases(model),
    }
