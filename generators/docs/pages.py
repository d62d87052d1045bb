"""The template contexts of the documents: plain dicts, lists and strings built from the model
and the other targets' pure functions (templates never see model objects)."""
from __future__ import annotations

from ..emit import fmt_number, generated_header
from . import facts as F

ROTATION_WEEKS = 12
PROCESS_TITLES = {
    "incident_response": "Incident response process",
    "post_incident": "Post-incident process",
    "emergency": "Emergency procedures",
    "onboarding": "Training and onboarding",
}


def cell(value) -> str:
    """Text fit for a Markdown table cell: pipes escaped, on one line."""
    return " ".join(str(value).split()).replace("|", "\\|")


def where(pos) -> str:
    return f"{pos.file}:{pos.line}" if pos is not None else ""


class Context:
    def __init__(self, model):
        self.model = model
        self.rules = F.alert_rules(model)
        self.alerts = F.alert_docs(model, self.rules)
        self.routes = F.Routing(model)
        self.header = generated_header(model.source).lstrip("# ")
        self.alerts_of: dict[str, list[F.AlertDoc]] = {}
        for d in self.alerts:
            self.alerts_of.setdefault(d.service, []).append(d)
        self._memo: dict = {}      # contexts are plain data shared by the pages that show them

    def _once(self, key, make):
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    # --- shared pieces ------------------------------------------------------------

    def severity(self, sid: str) -> dict:
        return self._once(("severity", sid), lambda: self._severity(sid))

    def _severity(self, sid: str) -> dict:
        s = self.model.severity(sid)
        if s is None:
            return {"id": sid, "name": sid, "response": "", "pages": False, "channels": ""}
        return {"id": s.id, "name": s.name, "response": str(s.response_time), "pages": s.pages,
                "channels": ", ".join(s.channels)}

    def team_name(self, tid: str) -> str:
        team = self.model.team(tid)
        return team.name if team else tid

    def routing(self, rule: F.Rule) -> dict:
        """Routing depends on the rule's severity, service and whether it is the Watchdog only."""
        return self._once(("routing", rule.severity, rule.service, rule.kind == "watchdog"),
                          lambda: self._routing(rule))

    def _routing(self, rule: F.Rule) -> dict:
        sev = self.severity(rule.severity)
        receivers = [self.routes.describe(r) for r in self.routes.receivers_for(rule)]
        muted = self.routes.mutes_for(rule)
        pd = self.model.pagerduty_service(rule.service, rule.severity)
        policy, steps = F.escalation_path(self.model, rule.severity)
        out = {
            "severity": sev,
            "receivers": receivers,
            "muted": muted,
            "pagerduty": pd.id if pd else "",
            "escalation": " → ".join(f"{s.name} (+{s.after})" if s.after.ms else s.name for s in steps) if policy else "",
        }
        # the cells of the runbook's routing table after the severity (shared by many rules)
        out["cells"] = " | ".join([
            sev["response"], cell(sev["channels"]),
            cell(", ".join(receivers) or "n/a") + (f" (muted during {', '.join(muted)})" if muted else ""),
            out["pagerduty"] or "does not page", cell(out["escalation"] or "none")])
        return out

    def alert_context(self, d: F.AlertDoc) -> dict:
        return self._once(("alert", id(d)), lambda: self._alert_context(d))

    def _alert_context(self, d: F.AlertDoc) -> dict:
        m = self.model
        svc = m.service(d.service)
        rules = [{"severity": self.severity(r.severity), "expr": r.expr, "for": r.for_, "burn": r.label("burn"),
                  "condition": r.condition, "routing": self.routing(r)} for r in d.rules]
        first = d.rules[0]
        summary = first.annotation("summary") or (d.alert.summary if d.alert else "")
        symptoms, steps, runbook = self.symptoms_steps(d, summary)
        slo = self.slo_context(d.slo) if d.slo is not None else None
        dash = first.annotation("dashboard_url") or (
            m.dashboard_url(m.service_dashboard_uid(d.service)) if svc else "")
        return {
            "name": d.name, "anchor": d.name.lower(), "service": d.service, "kind": d.kind,
            "summary": summary, "source": where(d.pos), "symptoms": symptoms, "steps": steps,
            "runbook": runbook, "dashboard": dash, "rules": rules, "slo": slo,
            "runbook_url": first.annotation("runbook_url") or m.runbook_url(d.service, d.name),
            "severities": ", ".join(r["severity"]["id"] for r in rules),
            "condition": "; ".join(f"{r.severity}: {r.condition}" for r in d.rules),
        }

    def symptoms_steps(self, d: F.AlertDoc, summary: str) -> tuple[list[str], list[str], dict | None]:
        m = self.model
        svc = m.service(d.service)
        if d.runbook is not None:
            rb = d.runbook
            return list(rb.symptoms) or [summary], list(rb.steps), {
                "title": rb.title, "source": where(rb.pos)}
        handbook = "../oncall-handbook.md#incident-response-process"
        if d.kind in ("burn", "average") and d.slo is not None:
            o = d.slo
            symptoms = [o.description or f"The {o.name} SLO is at risk.",
                        "The error budget is being spent faster than the SLO allows." if d.kind == "burn"
                        else f"The {o.window} average is above {fmt_number(o.threshold)}s."]
            steps = ["Open the SLO dashboard and find which window fired and since when",
                     "Check the service's other firing alerts: they usually name the cause"]
            steps += [f"Follow the runbook [{rb.title}](#runbook-{rb.id}) if it matches" for rb in svc.runbooks]
            steps.append(f"Declare an incident per the [incident response process]({handbook})")
            return symptoms, steps, None
        if d.kind == "absent":
            return ([f"Prometheus has no series of {svc.name if svc else d.service}'s metrics."],
                    ["Open Prometheus' Targets page and check the service's scrape targets",
                     "Check the exporter or the service's pods are running",
                     "Check service discovery labels and the scrape job"], None)
        if d.kind == "watchdog":
            return (["This alert always fires; it proves the alerting pipeline works end to end."],
                    ["Nothing to do while it fires",
                     "When the dead man's switch reports it missing: check Prometheus, Alertmanager and "
                     "the notification path"], None)
        return ([summary] if summary else [],
                ["Open the dashboard and confirm the condition",
                 f"No runbook in the spec for this alert: follow the [incident response process]({handbook})"],
                None)

    def slo_context(self, o) -> dict:
        return self._once(("slo", id(o)), lambda: self._slo_context(o))

    def _slo_context(self, o) -> dict:
        return {
            "name": o.name, "id": o.id, "type": o.type, "description": o.description,
            "objective": F.pct(o.objective), "window": str(o.window), "budget": F.pct(o.error_budget),
            "source": where(o.pos),
            "tiers": [self.tier_context(b) for b in F.burn_facts(o)],
        }

    def tier_context(self, b: F.BurnFact) -> dict:
        # SLOs of one period and objective share their tiers; the key keeps each Decimal's digits
        key = ("tier", b.name, b.severity, b.long.ms, b.short.ms, str(b.factor), str(b.error_ratio),
               str(b.budget_consumed), b.detection.ms)
        return self._once(key, lambda: {
            "name": b.name, "severity": b.severity, "long": str(b.long), "short": str(b.short),
            "factor": fmt_number(b.factor), "ratio": F.pct(b.error_ratio),
            "consumed": F.pct(b.budget_consumed, 2), "detection": F.human(b.detection)})

    # --- pages --------------------------------------------------------------------

    def runbook_pages(self) -> list[dict]:
        m = self.model
        pages = []
        ids = [s.id for s in m.services] + sorted({d.service for d in self.alerts} - {s.id for s in m.services})
        for sid in ids:
            svc = m.service(sid)
            alerts = [self.alert_context(d) for d in self.alerts_of.get(sid, [])]
            if svc is None and not alerts:
                continue
            pages.append({
                "header": self.header, "id": sid,
                "name": svc.name if svc else ("Monitoring pipeline" if sid == "prometheus" else sid),
                "description": svc.description if svc else "Prometheus, Alertmanager and the notification path.",
                "team": self.team_name(svc.team if svc else m.organization.team),
                "source": where(svc.pos) if svc else "",
                "dashboard": m.dashboard_url(m.service_dashboard_uid(sid)) if svc else "",
                "slos": [self.slo_context(o) for o in svc.slos] if svc else [],
                "runbooks": [{"id": rb.id, "title": rb.title, "symptoms": list(rb.symptoms), "steps": list(rb.steps),
                              "source": where(rb.pos)} for rb in svc.runbooks] if svc else [],
                "alerts": alerts,
            })
        return pages

    def catalogue(self) -> dict:
        rows = []
        for d in self.alerts:
            ctx = self.alert_context(d)
            for r in ctx["rules"]:
                rows.append({"name": d.name, "service": d.service, "severity": r["severity"]["id"],
                             "condition": r["condition"], "expr": r["expr"], "for": r["for"],
                             "runbook": f"runbooks/{d.service}.md#{d.name.lower()}"})
        return {"header": self.header, "rows": rows, "count": len(self.alerts)}
