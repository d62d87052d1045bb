"""Semantic checks: what the schema cannot say about a spec.

Each check is a function `check(model, doc) -> Iterable[Problem]` registered with
a stable rule id; `run_checks` runs all of them and returns the problems sorted.
Positions come from the parsed nodes (`doc.locate`), never computed here.

| rule id | what it finds |
|---|---|
| ref/severity, ref/person, ref/rotation, ref/tier, ref/channel, ref/service, ref/team, ref/runbook, ref/dashboard, ref/metric, ref/incident-level | a reference to something the spec does not define |
| ref/signal | an alert on a signal that does not exist, or that the service's metrics cannot compute |
| alert/inverted-thresholds | a less severe level whose threshold is not less severe than a more severe one's |
| alert/level-order | levels not written most severe first |
| alert/for-zero | `for: 0s` (an alert must hold for a while before it fires) |
| alert/summary | a summary that is not a sentence ending in a period |
| alert/duplicate-name | two alerts with the same alertname |
| window/too-short | a rate window shorter than 4 scrape intervals |
| slo/no-budget | an objective of 100%: no error budget to burn |
| slo/bucket | a latency threshold that is not a declared histogram bucket |
| slo/sli | an SLO whose metrics the service does not have |
| promql/parse | a generated expression that does not parse (a bad metric or matcher in the spec) |
| rotation/offset, rotation/members | tier offsets that collide or exceed the members; duplicate members |
| maintenance/order | a window that ends before it starts |
| tz/unknown | a time zone the tz database does not know |
| severity/timing | an escalation delay shorter than the response time |
"""
from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable

import promql_parser

from . import kinds as K
from .problems import Problem
from .values import Duration

CHECKS: list[tuple[str, Callable]] = []


def check(fn):
    CHECKS.append((fn.__name__, fn))
    return fn


def run_checks(model, doc) -> list[Problem]:
    out: list[Problem] = []
    for _, fn in CHECKS:
        out.extend(fn(model, doc))
    return sorted(set(out), key=lambda p: p.sort_key)


def _ref(doc, parts, kind, value, known, of: str = "") -> Iterable[Problem]:
    if value not in known:
        choices = ", ".join(sorted(known)) or "none defined"
        yield doc.problem(tuple(parts), f"unknown {kind} {value!r}{of} (known: {choices})",
                          f"ref/{kind.replace(' ', '-')}")


@check
def references(model, doc):
    d = doc.data
    sev = {s.id for s in model.severities}
    people = {p.id for p in model.people}
    services = {s.id for s in model.services}
    teams = {t.id for t in model.teams} | {model.organization.team}
    levels = {x.id for x in model.incident_levels}
    for sid, s in d.get("severities", {}).items():
        for i, c in enumerate(s.get("channels", [])):
            yield from _ref(doc, ("severities", sid, "channels", i), "channel", c, {c.id for c in model.channels})
        if "incident_level" in s and model.incident_levels:
            yield from _ref(doc, ("severities", sid, "incident_level"), "incident level", s["incident_level"], levels)
    for rid, r in d.get("rotations", {}).items():
        for i, m in enumerate(r.get("members", [])):
            yield from _ref(doc, ("rotations", rid, "members", i), "person", m, people)
    for i, lv in enumerate(d.get("escalation", {}).get("levels", [])):
        t = lv["target"]
        at = ("escalation", "levels", i, "target")
        if "person" in t:
            yield from _ref(doc, at + ("person",), "person", t["person"], people)
        else:
            rot = model.rotation(t["rotation"])
            yield from _ref(doc, at + ("rotation",), "rotation", t["rotation"], {r.id for r in model.rotations})
            if rot:
                yield from _ref(doc, at + ("tier",), "tier", t["tier"], {x.id for x in rot.tiers})
        for j, s in enumerate(lv.get("severities", [])):
            yield from _ref(doc, ("escalation", "levels", i, "severities", j), "severity", s, sev)
    for wid, w in d.get("maintenance_windows", {}).items():
        for j, s in enumerate(w.get("mute_severities", [])):
            yield from _ref(doc, ("maintenance_windows", wid, "mute_severities", j), "severity", s, sev)
        for j, s in enumerate(w.get("services", [])):
            yield from _ref(doc, ("maintenance_windows", wid, "services", j), "service", s, services)
    for key in ("page_severity", "ticket_severity"):
        if key in d.get("slo_defaults", {}):
            yield from _ref(doc, ("slo_defaults", key), "severity", d["slo_defaults"][key], sev)
    for rid, r in d.get("alert_rules", {}).items():
        for j, s in enumerate(r.get("services", [])):
            yield from _ref(doc, ("alert_rules", rid, "services", j), "service", s, services)
        for s in r.get("levels", {}):
            yield from _ref(doc, ("alert_rules", rid, "levels", s), "severity", s, sev)
    dashboards = {x.id for x in model.dashboards}
    for sid, s in d.get("services", {}).items():
        svc = model.service(sid)
        if "team" in s:
            yield from _ref(doc, ("services", sid, "team"), "team", s["team"], teams)
        runbooks = set(s.get("runbooks", {}))
        for aid, a in (s.get("alerts") or {}).items():
            for lvl in a.get("levels", {}):
                yield from _ref(doc, ("services", sid, "alerts", aid, "levels", lvl), "severity", lvl, sev)
            if "runbook" in a:
                yield from _ref(doc, ("services", sid, "alerts", aid, "runbook"), "runbook", a["runbook"], runbooks)
        for rid, r in d.get("alert_rules", {}).items():
            if "runbook" in r and svc and any(a.rule == rid for a in svc.alerts) and rid not in (s.get("alerts") or {}):
                yield from _ref(doc, ("alert_rules", rid, "runbook"), "runbook", r["runbook"], runbooks,
                                f" of service {sid!r}")
        for oid, o in (s.get("slos") or {}).items():
            for key in ("page_severity", "ticket_severity", "severity"):
                if key in o:
                    yield from _ref(doc, ("services", sid, "slos", oid, key), "severity", o[key], sev)
        for i, p in enumerate(s.get("panels", [])):
            yield from _ref(doc, ("services", sid, "panels", i, "metric"), "metric", p["metric"], dict(svc.metrics))
            if dashboards:
                yield from _ref(doc, ("services", sid, "panels", i, "dashboard"), "dashboard",
                                p.get("dashboard", "application-metrics"), dashboards)


@check
def signals(model, doc):
    d = doc.data

    def one(parts, name, svc):
        sig = K.SIGNALS.get(name)
        if sig is None:
            yield doc.problem(parts, f"unknown signal {name!r} (known: {', '.join(sorted(K.SIGNALS))})", "ref/signal")
            return
        missing = [m for m in sig.needs if svc.metric(m) is None]
        if missing:
            yield doc.problem(parts, f"signal {name!r} needs metric {', '.join(missing)}, which service "
                                     f"{svc.id!r} (kind {svc.kind}) does not define under metrics", "ref/signal")

    for sid, s in d.get("services", {}).items():
        svc = model.service(sid)
        overrides = s.get("alerts") or {}
        for rid, r in d.get("alert_rules", {}).items():
            if (svc.kind in r.get("kinds", []) or sid in r.get("services", [])) and \
                    overrides.get(rid, {}).get("enabled") is not False and "signal" not in overrides.get(rid, {}):
                yield from one(("alert_rules", rid, "signal"), r["signal"], svc)
                for i, c in enumerate(r.get("and", []) if "and" not in overrides.get(rid, {}) else []):
                    yield from one(("alert_rules", rid, "and", i, "signal"), c["signal"], svc)
        for aid, a in overrides.items():
            if "signal" in a:
                yield from one(("services", sid, "alerts", aid, "signal"), a["signal"], svc)
            elif aid not in d.get("alert_rules", {}):
                yield doc.problem(("services", sid, "alerts", aid), f"{aid!r} overrides no rule of alert_rules "
                                  "and names no signal", "ref/signal")
            for i, c in enumerate(a.get("and", [])):
                yield from one(("services", sid, "alerts", aid, "and", i, "signal"), c["signal"], svc)


_WORSE = {">": 1, ">=": 1, "<": -1, "<=": -1}


@check
def alert_levels(model, doc):
    rank = {s.id: s.rank for s in model.severities}
    for a in model.alerts:
        at = _alert_path(doc, a)
        ranks = [rank.get(lv.severity) for lv in a.levels]
        if None not in ranks and ranks != sorted(ranks):
            yield doc.problem(at + ("levels",), "levels must be written most severe first "
                              f"({', '.join(lv.severity for lv in a.levels)})", "alert/level-order")
        sign = _WORSE.get(a.op)
        if sign is not None and None not in ranks:
            by_rank = sorted(a.levels, key=lambda lv: rank[lv.severity])
            for hi, lo in zip(by_rank, by_rank[1:]):
                if (lo.threshold - hi.threshold) * sign >= 0:
                    yield doc.problem(at + ("levels", lo.severity),
                                      f"{lo.severity} threshold {_shown(lo.threshold, a.unit)} is not less severe "
                                      f"than {hi.severity} threshold {_shown(hi.threshold, a.unit)} for '{a.op}'",
                                      "alert/inverted-thresholds")
        if a.for_.ms == 0:
            yield doc.problem(at + ("for",), "for: 0s fires on a single evaluation; give the alert a duration",
                              "alert/for-zero")
        if not a.summary.strip().endswith("."):
            yield doc.problem(at + ("summary",), f"summary {a.summary!r} must be a static sentence ending in a period",
                              "alert/summary")


def _shown(value, unit: str) -> str:
    """A threshold the way the spec writes it: ratios as percentages, times with a unit."""
    if unit == K.RATIO:
        return f"{format((value * 100).normalize(), 'f')}%"
    if unit == K.SECONDS:
        return str(Duration.of(float(value)))
    return format(value.normalize(), "f")


def _alert_path(doc, a) -> tuple:
    over = (doc.data.get("services", {}).get(a.service, {}).get("alerts") or {}).get(a.rule)
    if over is not None and (a.rule not in doc.data.get("alert_rules", {}) or set(over) - {"runbook", "enabled"}):
        return ("services", a.service, "alerts", a.rule)
    return ("alert_rules", a.rule)


@check
def alert_names(model, doc):
    seen = {}
    for a in model.alerts:
        if a.name in seen and seen[a.name] != (a.service, a.rule):
            yield doc.problem(_alert_path(doc, a), f"alert name {a.name} is also made by "
                              f"services.{seen[a.name][0]}.alerts.{seen[a.name][1]}", "alert/duplicate-name")
        seen.setdefault(a.name, (a.service, a.rule))
    names = {a.name for a in model.alerts}
    for o in model.slos:
        if o.name in names:
            yield doc.problem(("services", o.service, "slos", o.id), f"SLO name {o.name} collides with an alert",
                              "alert/duplicate-name")


@check
def windows(model, doc):
    floor = model.organization.scrape_interval * 4
    for a in model.alerts:
        if a.window < floor and any(f"[{a.window}]" in e for e in [a.signal_expr]):
            yield doc.problem(_alert_path(doc, a) + ("window",), f"rate window {a.window} is shorter than 4 scrape "
                              f"intervals ({floor})", "window/too-short")


@check
def slos(model, doc):
    for svc in model.services:
        for o in svc.slos:
            at = ("services", svc.id, "slos", o.id)
            if o.type != "average" and o.objective >= 1:
                yield doc.problem(at + ("objective",), "an objective of 100% leaves no error budget to burn",
                                  "slo/no-budget")
            if o.type == "latency" and o.threshold is not None and svc.histogram_buckets \
                    and o.threshold not in svc.histogram_buckets:
                yield doc.problem(at + ("threshold",), f"latency threshold {o.threshold}s is not a bucket boundary "
                                  f"of the service's histogram ({', '.join(str(x) for x in svc.histogram_buckets)})",
                                  "slo/bucket")
            elif o.type == "latency" and not svc.histogram_buckets:
                yield doc.problem(at + ("threshold",), "a latency SLO needs the service's histogram_buckets, "
                                  "and its threshold must be one of them", "slo/bucket")
            if o.type in ("latency", "average") and o.threshold is None:
                yield doc.problem(at, f"a {o.type} SLO needs a threshold", "slo/sli")
            if not (o.total_series or o.sum_series):
                yield doc.problem(at, f"a {o.type} SLO needs metrics the service does not define "
                                  "(availability: requests; success_rate, average: metric)", "slo/sli")
            if o.window < o.tiers[-1].long if o.tiers else False:
                yield doc.problem(at + ("window",), f"window {o.window} is shorter than its longest alert window",
                                  "window/too-short")


@check
def promql(model, doc):
    bad_metric = set()
    for svc in model.services:
        for key, metric in svc.metrics:
            try:
                promql_parser.parse(metric.selector())
            except ValueError as e:
                bad_metric.add(svc.id)
                yield doc.problem(("services", svc.id, "metrics", key), f"{metric.selector()} does not parse: {e}",
                                  "promql/parse")
    for a in model.alerts:
        for lv in a.levels[:1] if a.service not in bad_metric else ():
            try:
                promql_parser.parse(a.expr(lv))
            except ValueError as e:
                yield doc.problem(_alert_path(doc, a), f"expression does not parse: {e}: {a.expr(lv)}",
                                  "promql/parse")


@check
def rotations(model, doc):
    for r in model.rotations:
        at = ("rotations", r.id)
        seen = set()
        for i, m in enumerate(r.members):
            if m in seen:
                yield doc.problem(at + ("members", i), f"{m!r} is listed twice", "rotation/members")
            seen.add(m)
        offsets = {}
        for t in r.tiers:
            if r.members and t.offset >= len(r.members):
                yield doc.problem(at + ("tiers", t.id, "offset"), f"offset {t.offset} is not less than the "
                                  f"{len(r.members)} members", "rotation/offset")
            elif t.offset in offsets:
                yield doc.problem(at + ("tiers", t.id, "offset"), f"offset {t.offset} is also tier "
                                  f"{offsets[t.offset]!r}: the same person would hold both", "rotation/offset")
            offsets.setdefault(t.offset, t.id)
        if len(r.tiers) > len(r.members):
            yield doc.problem(at + ("tiers",), f"{len(r.tiers)} tiers need at least as many members "
                              f"({len(r.members)})", "rotation/members")


@check
def maintenance(model, doc):
    for w in model.maintenance_windows:
        at = ("maintenance_windows", w.id)
        if w.weekly and w.end_time <= w.start_time:
            yield doc.problem(at + ("weekly", "end"), f"ends at {w.end_time}, not after it starts ({w.start_time})",
                              "maintenance/order")
        if w.start and w.end and w.end <= w.start:
            yield doc.problem(at + ("once", "end"), "ends before it starts", "maintenance/order")
        if not w.weekly and not w.start:
            yield doc.problem(at, "a maintenance window needs `weekly` or `once`", "maintenance/order")


@check
def timezones(model, doc):
    places = [(("organization", "timezone"), model.organization.timezone)]
    places += [(("rotations", r.id, "timezone"), r.timezone) for r in model.rotations
               if "timezone" in doc.data["rotations"][r.id]]
    places += [(("maintenance_windows", w.id, "timezone"), w.timezone) for w in model.maintenance_windows
               if "timezone" in doc.data["maintenance_windows"][w.id]]
    for parts, tz in places:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            yield doc.problem(parts, f"unknown time zone {tz!r}", "tz/unknown")


@check
def severity_timings(model, doc):
    for s in model.severities:
        if s.escalation_after < s.response_time:
            yield doc.problem(("severities", s.id, "escalation_after"),
                              f"escalation after {s.escalation_after} comes before the response time "
                              f"{s.response_time}", "severity/timing")
        if s.repeat_interval < s.group_interval:
            yield doc.problem(("severities", s.id, "notify"), "repeat_interval is shorter than group_interval",
                              "severity/timing")
    if model.policies and not model.escalation:
        yield doc.problem(("escalation",), "severities page but no escalation levels are defined", "ref/rotation")
    for p in model.policies:
        if not p.levels:
            yield doc.problem(("severities", p.severity), "no escalation level applies to this paging severity",
                              "ref/severity")


__all__ = ["run_checks", "CHECKS"]
