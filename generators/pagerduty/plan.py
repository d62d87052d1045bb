"""What PagerDuty should hold, derived once from the model for both renderers.

The Terraform file and the REST payloads are two spellings of this one plan, so
they cannot disagree: same names, same member order, same anchors and delays.
References between objects are kept as `Ref(kind, key)`; each renderer turns
them into its own syntax (`${...}` expressions or `{{kind:name}}` placeholders).
"""
from __future__ import annotations

import math
import re
import zoneinfo
from dataclasses import dataclass

from ..spec.model import Model, Rotation, Target

EVENTS_V2 = "events_api_v2_inbound_integration"
INTEGRATION_NAME = "Alertmanager (Events API v2)"


def tf_name(*parts: str) -> str:
    """A Terraform block label from spec names: `aitbc-oncall`, `primary` -> `aitbc_oncall_primary`."""
    name = "_".join(w for p in parts for w in re.split(r"[^A-Za-z0-9]+", p.lower()) if w)
    return f"_{name}" if name[:1].isdigit() else name


@dataclass(frozen=True)
class Ref:
    kind: str                      # user | schedule | escalation_policy | service
    key: str                       # the plan key of the object (person id for users)


@dataclass(frozen=True)
class User:
    key: str                       # person id
    email: str
    name: str


@dataclass(frozen=True)
class Schedule:
    key: str                       # <rotation>-<tier>: file name; Terraform name with `_`
    name: str
    description: str
    time_zone: str
    layer_name: str
    start: str                     # first handoff, ISO 8601 with the zone's offset
    turn_seconds: int
    users: tuple[Ref, ...]         # in the tier's turn order


@dataclass(frozen=True)
class Rule:
    level: str                     # the escalation level's name (for readers)
    delay_minutes: int
    targets: tuple[Ref, ...]


@dataclass(frozen=True)
class Policy:
    key: str                       # EscalationPolicy.id, e.g. p0
    name: str
    description: str
    num_loops: int
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Service:
    key: str                       # PagerDutyService.id, e.g. coordinator-api-p0
    name: str
    description: str
    policy: Ref
    acknowledgement_timeout: int | None   # seconds; None disables
    auto_resolve_timeout: int | None
    routing_key_file: str


@dataclass(frozen=True)
class Plan:
    users: tuple[User, ...]
    schedules: tuple[Schedule, ...]
    policies: tuple[Policy, ...]
    services: tuple[Service, ...]

    def name_of(self, ref: Ref) -> str:
        """The natural key a REST client looks the object up by (email, or PagerDuty name)."""
        pool = {"user": self.users, "schedule": self.schedules,
                "escalation_policy": self.policies, "service": self.services}[ref.kind]
        obj = next(o for o in pool if o.key == ref.key)
        return obj.email if ref.kind == "user" else obj.name


def schedule_key(rotation: str, tier: str) -> str:
    return f"{rotation}-{tier}"


def anchor(rotation: Rotation) -> str:
    """The rotation's fixed first handoff, with its time zone's offset at that instant."""
    local = rotation.first_handoff.replace(tzinfo=zoneinfo.ZoneInfo(rotation.timezone))
    return local.isoformat()


def _schedules(model: Model) -> tuple[Schedule, ...]:
    out = []
    for r in model.rotations:
        for t in r.tiers:
            tier = t.id.replace("-", " ").replace("_", " ").title()
            when = f"{r.handoff_day.title()} {r.handoff_time} {r.timezone}"
            out.append(Schedule(
                key=schedule_key(r.id, t.id),
                name=f"{r.name} - {tier}",
                description=(f"{t.description.rstrip('.')}. " if t.description else "")
                + f"{tier} tier of the {r.name} rotation ({r.length} turns, handoff {when}). Managed by montool.",
                time_zone=r.timezone,
                layer_name=f"{tier} rotation",
                start=anchor(r),
                turn_seconds=r.length.ms // 1000,
                users=tuple(Ref("user", m) for m in r.member_order(t.id))))
    return tuple(out)


def _target(model: Model, target: Target) -> Ref:
    if target.kind == "person":
        return Ref("user", target.id)
    rotation = model.rotation(target.id)
    tier = target.tier or rotation.tiers[0].id   # a rotation without a tier: its first tier
    return Ref("schedule", schedule_key(rotation.id, tier))


def _policies(model: Model) -> tuple[Policy, ...]:
    out = []
    for p in model.policies:
        severity = model.severity(p.severity)
        minutes = max(1, math.ceil(p.delay.ms / 60_000))
        out.append(Policy(
            key=p.id, name=p.name,
            description=f"{severity.name} ({p.severity}) incidents: each level has {p.delay} to acknowledge "
                        f"before the next is paged. Managed by montool.",
            num_loops=p.num_loops,
            rules=tuple(Rule(lv.name, minutes, (_target(model, lv.target),)) for lv in p.levels)))
    return tuple(out)


def _seconds(d) -> int | None:
    """Whole seconds; None (the feature disabled) when the spec leaves it unset or zero."""
    return d.ms // 1000 if d is not None and d.ms else None


def _services(model: Model) -> tuple[Service, ...]:
    org = model.organization
    return tuple(
        Service(key=s.id, name=s.name,
                # the model writes "<service description> - P0 alerts"; the first part may be empty
                description=f"{s.description.lstrip(' -').rstrip('.')}. Managed by montool.",
                policy=Ref("escalation_policy", s.policy),
                acknowledgement_timeout=_seconds(org.pd_ack_timeout),
                auto_resolve_timeout=_seconds(org.pd_auto_resolve_timeout),
                routing_key_file=s.routing_key_file)
        for s in model.pagerduty_services)


def plan(model: Model) -> Plan:
    return Plan(
        users=tuple(User(p.id, p.email, p.name) for p in model.people),
        schedules=_schedules(model),
        policies=_policies(model),
        services=_services(model))


# PagerDuty's fixed severity -> urgency mapping of "severity based" urgency
# (support.pagerduty.com, Dynamic Notifications).
SEVERITY_URGENCY = {"critical": "high", "error": "high", "warning": "low", "info": "low"}

__all__ = ["plan", "Plan", "Ref", "tf_name", "anchor", "EVENTS_V2", "INTEGRATION_NAME", "SEVERITY_URGENCY"]
