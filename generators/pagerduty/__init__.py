"""The PagerDuty target: on-call schedules, escalation policies and services.

Output: `pagerduty/pagerduty.tf.json` (Terraform JSON, provider PagerDuty/pagerduty
~> 3.0) and `pagerduty/api/` (REST API v2 request bodies with `{{kind:name}}`
placeholders, see `rest.py`). Both are rendered from one plan (`plan.py`):

- users: looked up by email (`data "pagerduty_user"`), never by id;
- schedules: one per tier of each rotation, one layer whose turn length is the
  rotation's length and whose `start` and `rotation_virtual_start` are the
  rotation's fixed first handoff, so a rebuild never moves who is on call; the
  members are in the tier's turn order (`Rotation.member_order`), the same model
  code `montool oncall` prints from;
- escalation policies: one per paging severity, a rule per escalation level in
  the spec's order, each `escalation_delay_in_minutes` the severity's escalation
  delay, `num_loops` from the organisation;
- services: one per monitored service and paging severity, using that severity's
  policy, urgency decided by the event's severity (`severity_based`), the
  organisation's acknowledgement and auto-resolve timeouts, and an Events API v2
  integration whose key is the sensitive output `routing_key_<service>`.

No maintenance windows are generated: a PagerDuty window silences every incident
of a service, whatever its severity, while the spec mutes only some severities
during maintenance; Alertmanager's time intervals do that, so PagerDuty stays
open for the severities that still page.
"""
from __future__ import annotations

from pathlib import Path

from ..emit import OutputFile, generated_header, json_text
from ..spec.model import Model
from ..spec.problems import Problem
from .plan import SEVERITY_URGENCY, plan
from .rest import rest_files
from .terraform import PATH, terraform


def generate(model: Model) -> list[OutputFile]:
    if not (model.rotations or model.policies):
        return []
    p = plan(model)
    header = generated_header(model.source).lstrip("# ")
    return [OutputFile(PATH, json_text(terraform(p, header))), *rest_files(p)]


def validate(staged_root: Path, model: Model) -> list[Problem]:
    """Severity-based urgency must give each paging severity the urgency the spec says."""
    problems = []
    for p in model.policies:
        s = model.severity(p.severity)
        derived = SEVERITY_URGENCY.get(s.pd_severity)
        if derived and derived != s.pd_urgency:
            problems.append(Problem.at(
                s.pos, f"severities.{s.id}.pagerduty",
                f"urgency {s.pd_urgency!r} disagrees with severity {s.pd_severity!r}, which PagerDuty's "
                f"severity-based urgency turns into {derived!r}", "pagerduty/urgency"))
    return problems
