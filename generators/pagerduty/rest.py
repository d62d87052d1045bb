"""`pagerduty/api/`: the plan as PagerDuty REST API v2 request bodies, one file each.

For teams that do not use Terraform. Each file is the body of one POST:

    schedules/<rotation>-<tier>.json      POST /schedules
    escalation_policies/<severity>.json   POST /escalation_policies
    services/<service>-<severity>.json    POST /services
    integrations/<service>-<severity>.json POST /services/{id}/integrations

IDs are not known before the objects exist, so references are placeholders
`{{<kind>:<name>}}`: `{{user:alice@aitbc.io}}` (a user, by email),
`{{schedule:AITBC On-Call - Primary}}`, `{{escalation_policy:AITBC P0 Critical}}` and
`{{service:Coordinator API (P0)}}` (by the `name` in their own payload). Create
in the order above and replace each placeholder with the id PagerDuty returned
(or `GET /users?query=<email>` for users).
"""
from __future__ import annotations

from ..emit import OutputFile, json_text
from .plan import EVENTS_V2, INTEGRATION_NAME, Plan, Ref

ROOT = "pagerduty/api"


def placeholder(plan: Plan, r: Ref) -> dict:
    return {"id": f"{{{{{r.kind}:{plan.name_of(r)}}}}}", "type": f"{r.kind}_reference"}


def _schedule(plan: Plan, s) -> dict:
    return {"schedule": {
        "type": "schedule",
        "name": s.name,
        "description": s.description,
        "time_zone": s.time_zone,
        "schedule_layers": [{
            "name": s.layer_name,
            "start": s.start,
            "rotation_virtual_start": s.start,
            "rotation_turn_length_seconds": s.turn_seconds,
            "users": [{"user": placeholder(plan, u)} for u in s.users],
        }],
    }}


def _policy(plan: Plan, p) -> dict:
    return {"escalation_policy": {
        "type": "escalation_policy",
        "name": p.name,
        "description": p.description,
        "num_loops": p.num_loops,
        "escalation_rules": [
            {"escalation_delay_in_minutes": r.delay_minutes, "targets": [placeholder(plan, t) for t in r.targets]}
            for r in p.rules],
    }}


def _service(plan: Plan, s) -> dict:
    body = {
        "type": "service",
        "name": s.name,
        "description": s.description,
        "escalation_policy": placeholder(plan, s.policy),
        "alert_creation": "create_alerts_and_incidents",
        "incident_urgency_rule": {"type": "constant", "urgency": "severity_based"},
    }
    # unset disables a timeout in a POST
    if s.acknowledgement_timeout is not None:
        body["acknowledgement_timeout"] = s.acknowledgement_timeout
    if s.auto_resolve_timeout is not None:
        body["auto_resolve_timeout"] = s.auto_resolve_timeout
    return {"service": body}


def _integration(plan: Plan, s) -> dict:
    return {"integration": {
        "type": EVENTS_V2,
        "name": INTEGRATION_NAME,
        "service": placeholder(plan, Ref("service", s.key)),
    }}


def rest_files(plan: Plan) -> list[OutputFile]:
    out = [OutputFile(f"{ROOT}/schedules/{s.key}.json", json_text(_schedule(plan, s))) for s in plan.schedules]
    out += [OutputFile(f"{ROOT}/escalation_policies/{p.key}.json", json_text(_policy(plan, p)))
            for p in plan.policies]
    out += [OutputFile(f"{ROOT}/services/{s.key}.json", json_text(_service(plan, s))) for s in plan.services]
    out += [OutputFile(f"{ROOT}/integrations/{s.key}.json", json_text(_integration(plan, s)))
            for s in plan.services]
    return out
