"""Alerting rules: threshold alerts, absent-series alerts and the Watchdog.

Every alert carries the labels of the contract between targets (`severity`,
`service`, `team`, `signal`, the organisation's labels, and the labels the signal
keeps, such as `instance`) and the annotations `summary` (the spec's static
sentence), `description` (templated: the live value humanized by the signal's
unit, the threshold and the window), `runbook_url` and `dashboard_url`.

- Threshold alerts: one rule per level of each `Alert` (same alertname), with
  `Alert.expr(level)` as the expression and the alert's `for`.
- `<Service>MetricsAbsent`: `absent()` of the service's essential series (its
  `up`-like metric; without one, every metric its alerts read), P1 for 10m.
- `Watchdog`: `vector(1)`, always firing, at the least severe severity, so the
  dead man's switch downstream knows the whole pipeline works.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..spec import kinds as K
from ..spec.problems import Position
from ..spec.values import Duration
from .humanize import FUNCTION_BY_UNIT

ABSENT_FOR = Duration.parse("10m")
OP_TEXT = {">": "above", ">=": "at or above", "<": "below", "<=": "at or below",
           "==": "equal to", "!=": "not equal to"}


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    for_: Duration | None          # None: fires at once (the Watchdog only)
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    service: str
    kind: str                      # threshold | burn | average | absent | watchdog
    condition: str                 # the condition in words, for inventories
    pos: Position | None
    unit: str = K.COUNT

    @property
    def severity(self) -> str:
        return dict(self.labels)["severity"]

    def label(self, key: str) -> str:
        return dict(self.labels).get(key, "")

    def annotation(self, key: str) -> str:
        return dict(self.annotations).get(key, "")

    def as_rule(self) -> dict:
        out = {"alert": self.name, "expr": self.expr}
        if self.for_ is not None:
            out["for"] = str(self.for_)
        out["labels"] = dict(self.labels)
        out["annotations"] = dict(self.annotations)
        return out


def number(d: Decimal) -> str:
    text = format(Decimal(d).normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def threshold_text(value: Decimal, unit: str) -> str:
    """A threshold as a person writes it: 10%, 500ms, 2s, 1000, 10/s."""
    if unit == K.RATIO:
        return number(Decimal(value) * 100) + "%"
    if unit == K.SECONDS:
        return str(Duration(int(Decimal(value) * 1000))) if value else "0s"
    if unit == K.PER_SECOND:
        return number(value) + "/s"
    return number(value)


def labels_for(model, service: str, team: str, severity: str, signal: str, **extra: str):
    labels = dict(model.organization.labels)
    labels.update(severity=severity, service=service, team=team, signal=signal, **extra)
    return tuple(sorted(labels.items()))


def annotations_for(model, service: str, name: str, summary: str, description: str):
    return tuple(sorted({
        "summary": summary,
        "description": description,
        "runbook_url": model.runbook_url(service, name),
        "dashboard_url": model.dashboard_url(model.service_dashboard_uid(service)),
    }.items()))


def value_template(unit: str) -> str:
    return f"{{{{ $value | {FUNCTION_BY_UNIT[unit]} }}}}" + ("/s" if unit == K.PER_SECOND else "")


def _where(by: tuple[str, ...]) -> str:
    if not by:
        return ""
    return " (" + ", ".join(f"{label} {{{{ $labels.{label} }}}}" for label in by) + ")"


def _over(signal: K.Signal, window: Duration) -> str:
    return f" over {window}" if "{w}" in signal.template else ""


def describe(svc, alert, level) -> str:
    sig = K.SIGNALS[alert.signal]
    text = (f"{svc.name}: {sig.description}{_over(sig, alert.window)} is {value_template(alert.unit)}"
            f"{_where(alert.by)}, {OP_TEXT[alert.op]} the {level.severity} threshold of "
            f"{threshold_text(level.threshold, alert.unit)}.")
    for c in alert.also:
        cs = K.SIGNALS[c.signal]
        text += f" Also {cs.description}{_over(cs, c.window)} {OP_TEXT[c.op]} {threshold_text(c.threshold, c.unit)}."
    return text


def condition_text(alert, level) -> str:
    parts = [(K.SIGNALS[alert.signal], alert.window, alert.op, level.threshold, alert.unit)]
    parts += [(K.SIGNALS[c.signal], c.window, c.op, c.threshold, c.unit) for c in alert.also]
    return " and ".join(f"{s.name}{_over(s, w)} {op} {threshold_text(t, u)}" for s, w, op, t, u in parts)


def threshold_rules(model, svc) -> list[AlertRule]:
    out = []
    for a in svc.alerts:
        for lv in a.levels:
            out.append(AlertRule(
                a.name, a.expr(lv), a.for_, labels_for(model, svc.id, svc.team, lv.severity, a.signal),
                annotations_for(model, svc.id, a.name, a.summary, describe(svc, a, lv)),
                svc.id, "threshold", condition_text(a, lv), a.pos, a.unit))
    return out


def essential_series(svc) -> list[str]:
    """Selectors whose absence means the service is not monitored at all."""
    up = svc.metric("up")
    if up is not None:
        return [up.selector()]
    keys = sorted({m for a in svc.alerts for m in K.SIGNALS[a.signal].needs})
    out = []
    for key in keys:
        metric = svc.metric(key)
        sel = metric.selector(suffix="_bucket" if key in K.HISTOGRAMS else "")
        if sel not in out:
            out.append(sel)
    return out


def absent_severity(model) -> str:
    return model.severities[min(1, len(model.severities) - 1)].id


def absent_rule(model, svc) -> AlertRule | None:
    series = essential_series(svc)
    if not series:
        return None
    name = f"{svc.camel}MetricsAbsent"
    listed = ", ".join(series)
    return AlertRule(
        name, " or ".join(f"absent({s})" for s in series), ABSENT_FOR,
        labels_for(model, svc.id, svc.team, absent_severity(model), "absent"),
        annotations_for(model, svc.id, name, f"Prometheus receives no metrics from {svc.name}.",
                        f"{svc.name}: no series of {listed} for {ABSENT_FOR}; its alerts cannot fire "
                        "while its metrics are missing."),
        svc.id, "absent", f"no series of {listed}", svc.pos)


def watchdog_rule(model) -> AlertRule:
    return AlertRule(
        "Watchdog", "vector(1)", None,
        labels_for(model, "prometheus", model.organization.team, model.severities[-1].id, "watchdog"),
        annotations_for(model, "prometheus", "Watchdog",
                        "The alerting pipeline is working (this alert always fires).",
                        "Always firing: if the dead man's switch stops receiving this alert, "
                        "Prometheus, its rules or the path to Alertmanager are broken."),
        "prometheus", "watchdog", "always", None)
