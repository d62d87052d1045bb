"""Contexts of the on-call handbook and the coverage document."""
from __future__ import annotations

from . import facts as F
from .pages import PROCESS_TITLES, ROTATION_WEEKS, Context, where


def _people(model, ids) -> str:
    return ", ".join(model.person(p).name if model.person(p) else p for p in ids)


def _mermaid(model) -> list[str]:
    """Escalation flowchart: one node per level, edges labelled with each severity's delay."""
    levels = model.escalation
    lines = ["flowchart TD", '  alert(["Alert fires"])']
    for lv in levels:
        only = f"<br/>{', '.join(lv.severities)} only" if lv.severities else ""
        lines.append(f'  L{lv.number}["{lv.number}. {lv.name}<br/>{F.target_name(model, lv.target)}{only}"]')
    if levels:
        first = [p.severity for p in model.policies if levels[0] in p.levels]
        lines.append(f'  alert -- "{" · ".join(first) or "pages"}" --> L1')
    for a, b in zip(levels, levels[1:]):
        delays = [f"{p.severity} {p.delay}" for p in model.policies if a in p.levels and b in p.levels]
        if delays:
            lines.append(f'  L{a.number} -- "no ack: {" · ".join(delays)}" --> L{b.number}')
    return lines


def _rotation(model, r) -> dict:
    shifts = r.shifts(r.first_handoff, ROTATION_WEEKS)
    return {
        "id": r.id, "name": r.name, "source": where(r.pos), "members": _people(model, r.members),
        "length": str(r.length), "handoff": f"{r.handoff_day.capitalize()} {r.handoff_time} {r.timezone}",
        "start": r.start.isoformat(), "weeks": ROTATION_WEEKS,
        "tiers": [{"id": t.id, "phone": t.phone or "", "description": t.description,
                   "order": _people(model, r.member_order(t.id))} for t in r.tiers],
        "shifts": [{"n": i + 1, "begin": b.strftime("%Y-%m-%d %H:%M"), "end": e.strftime("%Y-%m-%d %H:%M"),
                    "holders": [_people(model, [h[t.id]]) for t in r.tiers]}
                   for i, (b, e, h) in enumerate(shifts)],
        "handoff_procedure": [{"name": h.name, "when": " ".join(x for x in (
            (h.day or "").capitalize(), h.time or "", r.timezone if h.time else "") if x),
            "duration": str(h.duration) if h.duration else "", "steps": list(h.steps)}
            for h in r.handoff_procedure],
    }


def _window(w) -> dict:
    if w.weekly:
        when = f"every {', '.join(d.capitalize() for d in w.days)} {w.start_time}-{w.end_time} {w.timezone}"
    else:
        when = f"{w.start.isoformat()} to {w.end.isoformat()}" if w.start and w.end else ""
    return {"id": w.id, "description": w.description, "when": when,
            "muted": ", ".join(w.mute_severities) or "nothing",
            "services": ", ".join(w.services) if w.services is not None else "all services",
            "notice": str(w.notice) if w.notice else "", "source": where(w.pos)}


def handbook(ctx: Context) -> dict:
    m = ctx.model
    org = m.organization
    severities = []
    for s in m.severities:
        policy, steps = F.escalation_path(m, s.id)
        severities.append({
            "id": s.id, "name": s.name, "meaning": list(s.meaning), "response": str(s.response_time),
            "escalation": str(s.escalation_after), "incident_level": s.incident_level or "",
            "channels": ", ".join(s.channels), "pages": s.pages, "urgency": s.pd_urgency,
            "pd_severity": s.pd_severity, "group_wait": str(s.group_wait), "repeat": str(s.repeat_interval),
            "source": where(s.pos),
            "path": [{"name": st.name, "target": st.target, "after": str(st.after)} for st in steps],
            "loops": policy.num_loops if policy else 0,
        })
    contacts = [{"name": dict(c).get("name", ""), "phone": dict(c).get("phone", ""), "note": dict(c).get("note", "")}
                for c in org.contacts]
    return {
        "header": ctx.header, "org": org.name,
        "team": m.team(org.team).name if m.team(org.team) else org.team,
        "targets": [{"name": k.replace("_", " "), "value": v} for k, v in org.targets],
        "severities": severities,
        "incident_levels": [{"id": i.id, "name": i.name, "criteria": list(i.criteria), "source": where(i.pos)}
                            for i in m.incident_levels],
        "escalation": [{"number": lv.number, "name": lv.name, "target": F.target_name(m, lv.target),
                        "severities": ", ".join(lv.severities) if lv.severities else "all paging severities"}
                       for lv in m.escalation],
        "mermaid": _mermaid(m),
        "rotations": [_rotation(m, r) for r in m.rotations],
        "contacts": contacts,
        "channels": [{"id": c.id, "type": c.type, "where": c.slack_channel or c.email_to or c.url
                      or (f"via {c.via}" if c.via else ""), "description": c.description} for c in m.channels],
        "windows": [_window(w) for w in m.maintenance_windows],
        "processes": [{"title": PROCESS_TITLES.get(k, k.replace("_", " ").capitalize()),
                       "phases": [{"name": p.name, "within": str(p.within) if p.within else "",
                                   "steps": list(p.steps)} for p in phases]}
                      for k, phases in m.process],
    }


def _first(items) -> str:
    items = list(items)
    return where(items[0].pos) if items else ""


# Where the targets write what (the output tree of the targets' contract).
RUNBOOKS = "docs/runbooks/<service>.md"
HANDBOOK = "docs/oncall-handbook.md"
PD = "pagerduty/pagerduty.tf.json"
SCHEDULES = "pagerduty/api/schedules/"
AM = "alertmanager/alertmanager.yml"
RULES = "prometheus/rules/<service>.rules.yml"
SLO_RULES = "prometheus/rules/<service>.slo-<slo>.rules.yml"


def coverage(ctx: Context) -> dict:
    """Playbook section -> spec key (file:line of its first node) -> generated files carrying it."""
    m = ctx.model
    procs = dict(m.process)
    rb = [r for s in m.services for r in s.runbooks]
    rows = [
        ("Service overview", "services", _first(m.services), [RUNBOOKS, "grafana/dashboards/"]),
        ("Critical metrics", "organization.targets", "", [HANDBOOK]),
        ("On-call rotation", "rotations", _first(m.rotations), [PD, SCHEDULES, HANDBOOK]),
        ("Handoff procedures", "rotations.*.handoff_procedure", _first(m.rotations), [HANDBOOK]),
        ("Contact information", "organization.contacts, people, rotations.*.tiers", _first(m.people),
         [PD, SCHEDULES, HANDBOOK]),
        ("Alert severity levels", "severities", _first(m.severities),
         [RULES, SLO_RULES, AM, PD, "pagerduty/api/services/", HANDBOOK]),
        ("Escalation policy", "escalation", _first(m.escalation), [PD, "pagerduty/api/escalation_policies/", HANDBOOK]),
        ("Alert channels", "channels", _first(m.channels), [AM, HANDBOOK]),
        ("Incident classification", "incident_levels", _first(m.incident_levels), [HANDBOOK]),
        ("Incident response process", "process.incident_response", "", [HANDBOOK]),
        ("Service-specific runbooks", "services.*.runbooks", _first(rb), [RUNBOOKS]),
        ("Monitoring dashboards", "dashboards, services.*.panels", _first(m.dashboards), ["grafana/dashboards/"]),
        ("Alert rules", "alert_rules, services.*.alerts", _first(m.alerts),
         [RULES, "prometheus/tests/", AM, "alertmanager/tests/routes.yml", "docs/alerts.md"]),
        ("SLOs & SLIs", "services.*.slos, slo_defaults", _first(m.slos), [SLO_RULES, "grafana/dashboards/", RUNBOOKS]),
        ("Post-incident process", "process.post_incident", "", [HANDBOOK]),
        ("Maintenance windows", "maintenance_windows", _first(m.maintenance_windows), [AM, HANDBOOK]),
        ("Emergency procedures", "process.emergency", "", [HANDBOOK]),
        ("Training & onboarding", "process.onboarding", "", [HANDBOOK]),
    ]
    present = {
        "organization.targets": bool(m.organization.targets), "process.incident_response": "incident_response" in procs,
        "process.post_incident": "post_incident" in procs, "process.emergency": "emergency" in procs,
        "process.onboarding": "onboarding" in procs,
    }
    out = []
    for title, key, source, files in rows:
        encoded = bool(source) or present.get(key, False)
        out.append({"section": title, "spec": key, "source": source or ("" if encoded else "not in this spec"),
                    "files": ", ".join(f"`{f}`" for f in files) if encoded else "-"})
    return {"header": ctx.header, "rows": out}
