"""`pagerduty/pagerduty.tf.json`: the plan in Terraform's JSON syntax.

Users are data sources looked up by email; schedules, escalation policies,
services and their Events API v2 integrations are resources named after the spec
(`pagerduty_schedule.aitbc_oncall_primary`, `pagerduty_escalation_policy.p0`,
`pagerduty_service.coordinator_api_p0`); each integration key is a sensitive
output `routing_key_<service>` to be written to the Alertmanager routing key file.
"""
from __future__ import annotations

from .plan import EVENTS_V2, INTEGRATION_NAME, Plan, Ref, tf_name

PROVIDER = {"source": "PagerDuty/pagerduty", "version": "~> 3.0"}
PATH = "pagerduty/pagerduty.tf.json"


def ref(r: Ref) -> str:
    if r.kind == "user":
        return f"${{data.pagerduty_user.{tf_name(r.key)}.id}}"
    return f"${{pagerduty_{r.kind}.{tf_name(r.key)}.id}}"


def _timeout(seconds: int | None):
    return seconds if seconds is not None else "null"   # the provider's way to disable it


def _schedule(s) -> dict:
    return {
        "name": s.name,
        "description": s.description,
        "time_zone": s.time_zone,
        "layer": [{
            "name": s.layer_name,
            "start": s.start,
            "rotation_virtual_start": s.start,
            "rotation_turn_length_seconds": s.turn_seconds,
            "users": [ref(u) for u in s.users],
        }],
    }


def _policy(p) -> dict:
    return {
        "name": p.name,
        "description": p.description,
        "num_loops": p.num_loops,
        "rule": [
            {"escalation_delay_in_minutes": r.delay_minutes,
             "target": [{"type": f"{t.kind}_reference", "id": ref(t)} for t in r.targets]}
            for r in p.rules],
    }


def _service(s) -> dict:
    return {
        "name": s.name,
        "description": s.description,
        "escalation_policy": ref(s.policy),
        "alert_creation": "create_alerts_and_incidents",   # required by Events API v2 integrations
        "acknowledgement_timeout": _timeout(s.acknowledgement_timeout),
        "auto_resolve_timeout": _timeout(s.auto_resolve_timeout),
        "incident_urgency_rule": [{"type": "constant", "urgency": "severity_based"}],
    }


def terraform(plan: Plan, header: str) -> dict:
    doc: dict = {"//": header, "terraform": {"required_providers": {"pagerduty": PROVIDER}}}
    if plan.users:
        doc["data"] = {"pagerduty_user": {tf_name(u.key): {"email": u.email} for u in plan.users}}
    resources = {
        "pagerduty_schedule": {tf_name(s.key): _schedule(s) for s in plan.schedules},
        "pagerduty_escalation_policy": {tf_name(p.key): _policy(p) for p in plan.policies},
        "pagerduty_service": {tf_name(s.key): _service(s) for s in plan.services},
        "pagerduty_service_integration": {
            tf_name(s.key): {"name": INTEGRATION_NAME, "type": EVENTS_V2,
                             "service": ref(Ref("service", s.key))}
            for s in plan.services},
    }
    resources = {k: v for k, v in resources.items() if v}
    if resources:
        doc["resource"] = resources
    if plan.services:
        doc["output"] = {
            f"routing_key_{tf_name(s.key)}": {
                "description": f"Events API v2 routing key of {s.name}; write it to {s.routing_key_file}",
                "sensitive": True,
                "value": f"${{pagerduty_service_integration.{tf_name(s.key)}.integration_key}}",
            }
            for s in plan.services}
    return doc
