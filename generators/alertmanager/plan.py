"""Who is notified of what: receiver names and the receivers of each severity x service.

Both the routing tree (`config.py`) and the routing test table (`cases.py`) are
built from these functions, and amtool proves that the tree really delivers what
the table says.

- A paging severity (PagerDuty in its channels and an urgency other than none)
  notifies the PagerDuty service of (service, severity): `pagerduty-<id>`.
- Slack, email and webhook channels each have one receiver named after the
  channel id; the severity lists them in the order Alertmanager reaches them.
- SMS and phone are PagerDuty's high-urgency notification rules, not
  Alertmanager's: they get no receiver.
- Webhook channels no severity lists are the dead man's switch of the Watchdog.
- An alert without a known severity goes to `default` (every Slack and email channel).
"""
from __future__ import annotations

DEFAULT = "default"
DEADMANS_SWITCH = "deadmans-switch"
WATCHDOG = "Watchdog"
ROUTED_TYPES = ("slack", "email", "webhook")   # the channel types with their own receiver
PAGERDUTY_ONLY = ("sms", "phone")              # PagerDuty notification rules


def pagerduty_receiver(pd_service) -> str:
    return f"pagerduty-{pd_service.id}"


def severity_channels(model, severity) -> list:
    """The Slack/email/webhook channels of `severity`, in the order the spec lists them."""
    out = []
    for cid in severity.channels:
        ch = model.channel(cid)
        if ch is not None and ch.type in ROUTED_TYPES and ch not in out:
            out.append(ch)
    return out


def routed_channels(model) -> list:
    """Every channel some severity routes to, in spec order (each has a receiver)."""
    used = {ch.id for s in model.severities for ch in severity_channels(model, s)}
    return [ch for ch in model.channels if ch.id in used]


def default_channels(model) -> list:
    """The channels of the default receiver: every Slack and email channel."""
    return [ch for ch in model.channels if ch.type in ("slack", "email")]


def deadmans_switch_channels(model) -> list:
    """Webhook channels no severity uses: the Watchdog's heartbeat goes there."""
    used = {ch.id for ch in routed_channels(model)}
    return [ch for ch in model.channels if ch.type == "webhook" and ch.id not in used]


def pagerduty_index(model) -> dict:
    """(service id, severity id) -> PagerDuty service, the first of each pair as in
    `model.pagerduty_service`, which scans the whole list on every call (quadratic at
    a thousand services)."""
    out = {}
    for pd in model.pagerduty_services:
        out.setdefault((pd.service, pd.severity), pd)
    return out


def receivers_for(model, severity, service_id: str | None, pagerduty: dict | None = None) -> list[str]:
    """The receivers an alert of `severity` and service `service_id` reaches, in order.

    `service_id` None (or a service the spec does not know) gets no PagerDuty
    receiver: there is no PagerDuty service for it. `pagerduty` is
    `pagerduty_index(model)`, passed by callers that ask for many services.
    """
    out = []
    index = pagerduty if pagerduty is not None else pagerduty_index(model)
    pd = index.get((service_id, severity.id)) if service_id else None
    if pd is not None:
        out.append(pagerduty_receiver(pd))
    out += [ch.id for ch in severity_channels(model, severity)]
    return out or [DEFAULT]


def mutes_for(model, severity_id: str, service_id: str | None) -> list[str]:
    """The maintenance windows (time interval names) that mute `severity_id` for a service.

    `service_id` None stands for a service the spec does not know: only windows
    without a `services` restriction apply to it. Windows with no time (neither
    weekly nor once) are left out: they mute nothing.
    """
    return [w.id for w in model.maintenance_windows
            if (w.weekly or w.start) and severity_id in w.mute_severities
            and (w.services is None or (service_id is not None and service_id in w.services))]
