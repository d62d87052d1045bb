"""`montool diff BASE [HEAD]`: what a change to the spec changes in the monitoring, for a pull request.

BASE and HEAD are each a git revision or a path (a spec file or folder); HEAD defaults
to the working tree's spec. A revision's spec is taken with `git archive <rev> <spec>`
into a temporary folder and compiled with the montool being run, so the report shows
what the *spec* change does (generator changes show in the `output/` diff instead).
Both sides are compiled fully and compared semantically, not as text:

- alerts added and removed; per alert and severity: threshold, `for`, expression,
  receivers; severities added or removed;
- SLOs: objective, window, threshold, and the effect on each burn-rate tier's error ratio;
- Alertmanager: routes (keyed by their matchers), receivers, inhibit rules, time intervals;
- escalation: delays, loops and targets per paging severity; severity timings;
- rotations: order, members, length, handoff, flagged with the shifts whose holder changes;
- dashboards added, removed or retitled.

The report is Markdown for a pull-request comment, or JSON (`--format json`).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

from .docs import facts as F
from .docs.pages import Context
from .prometheus.rules import threshold_text

SECTIONS = (("alerts", "Alerts"), ("slos", "SLOs"), ("routing", "Routing (Alertmanager)"),
            ("escalation", "Escalation and severities"), ("oncall", "On-call rotations"),
            ("dashboards", "Dashboards"))


# --- getting both sides ---------------------------------------------------------------

def resolve(ref: str, spec: Path, workdir: Path) -> tuple[str, Path]:
    """(label, spec path) of BASE/HEAD: an existing path is a spec; anything else a git revision,
    whose `spec` (relative to the current folder) is extracted into `workdir`."""
    if Path(ref).exists():
        return ref, Path(ref)
    git = ["git", "-C", str(Path.cwd())]
    try:
        prefix = subprocess.run(git + ["rev-parse", "--show-prefix"], check=True, capture_output=True,
                                text=True).stdout.strip()
        subprocess.run(git + ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], check=True,
                       capture_output=True)
        blob = subprocess.run(git + ["archive", "--format=tar", ref, "--", prefix + spec.as_posix()],
                              check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise ValueError(f"{ref!r} is neither a path nor a git revision with {spec} in it"
                         + (f": {detail.decode().strip()}" if detail.strip() else "")) from None
    target = Path(tempfile.mkdtemp(prefix="montool-diff-", dir=workdir))
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(target, filter="data")
    return ref, target / prefix / spec


# --- the semantic snapshot of one side ------------------------------------------------

def snapshot(model) -> dict:
    """A plain, comparable description of everything the report talks about."""
    ctx = Context(model)
    alerts = {}
    for d in ctx.alerts:
        rules = {}
        for r in d.rules:
            key = r.severity + (f" ({r.label('burn')})" if r.label("burn") else "")
            level = next((lv for lv in d.alert.levels if lv.severity == r.severity), None) if d.alert else None
            rules[key] = {
                "threshold": f"{d.alert.op} {threshold_text(level.threshold, d.alert.unit)}" if level else None,
                "for": r.for_, "expr": r.expr, "receivers": ", ".join(ctx.routes.receivers_for(r)) or None,
                "muted during": ", ".join(ctx.routes.mutes_for(r)) or None}
        alerts[d.name] = {"service": d.service, **rules}
    slos = {}
    for o in model.slos:
        slos[o.name] = {"objective": F.pct(o.objective), "window": str(o.window), "type": o.type,
                        "threshold": threshold_text(o.threshold, "seconds") if o.threshold is not None else None,
                        "min_request_rate": str(o.min_request_rate),
                        "burn": {b.name: f"{b.severity} {b.factor}x over {b.long}/{b.short}: error ratio > "
                                         f"{F.pct(b.error_ratio)}" for b in F.burn_facts(o)}}
    return {"alerts": alerts, "slos": slos, "routing": _routing(F.am_config(model)),
            "escalation": _escalation(model), "rotations": {r.id: _rotation(model, r) for r in model.rotations},
            "dashboards": _dashboards(model)}


def _canon(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(", ", ": "), default=str)


def _routing(am: dict) -> dict:
    routes: dict[str, str] = {}

    def walk(node, path):
        for child in node.get("routes") or []:
            here = path + [" ".join(child.get("matchers") or []) or _canon(child.get("match") or {})]
            key = " > ".join(here)
            while key in routes:
                key += " (again)"
            routes[key] = {k: v for k, v in child.items() if k != "routes"}
            walk(child, here)

    walk(am.get("route") or {}, [])
    routes["(root)"] = {k: v for k, v in (am.get("route") or {}).items() if k != "routes"}
    return {
        "routes": routes,
        "receivers": {r.get("name", ""): {k: v for k, v in r.items() if k != "name"} for r in am.get("receivers") or []},
        "inhibit_rules": sorted(_canon(r) for r in am.get("inhibit_rules") or []),
        "time_intervals": {t.get("name", ""): t.get("time_intervals")
                           for t in (am.get("time_intervals") or []) + (am.get("mute_time_intervals") or [])},
    }


def _escalation(model) -> dict:
    policies = {}
    for s in model.severities:
        policy, steps = F.escalation_path(model, s.id)
        policies[s.id] = {
            "response_time": str(s.response_time), "escalation_after": str(s.escalation_after),
            "channels": ", ".join(s.channels), "pages": s.pages,
            "loops": policy.num_loops if policy else None,
            "path": " → ".join(f"{st.target} (+{st.after})" for st in steps) or None}
    return policies


def _rotation(model, r) -> dict:
    names = {p.id: p.name for p in model.people}
    return {"members": ", ".join(names.get(m, m) for m in r.members), "length": str(r.length),
            "handoff": f"{r.handoff_day} {r.handoff_time} {r.timezone}", "start": r.start.isoformat(),
            "tiers": {t.id: ", ".join(names.get(m, m) for m in r.member_order(t.id)) for t in r.tiers}}


def _dashboards(model) -> dict:
    """uid -> title of every dashboard the Grafana target writes."""
    from .grafana.dashboards import all_dashboards

    return {d.uid: f"{d.folder}/{d.title}" for d in all_dashboards(model)}


# --- comparing -------------------------------------------------------------------

def _flat(d, prefix=""):
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k} "))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _changed(before: dict, after: dict) -> list[dict]:
    a, b = _flat(before), _flat(after)
    return [{"what": k, "before": a.get(k), "after": b.get(k)} for k in sorted(set(a) | set(b), key=_order(a, b))
            if a.get(k) != b.get(k)]


def _order(a: dict, b: dict):
    keys = list(dict.fromkeys(list(a) + list(b)))
    return keys.index


def _keyed(before: dict, after: dict) -> dict:
    return {
        "added": [k for k in after if k not in before],
        "removed": [k for k in before if k not in after],
        "changed": {k: _changed(before[k], after[k]) if isinstance(before[k], dict)
                    else [{"what": "", "before": before[k], "after": after[k]}]
                    for k in before if k in after and before[k] != after[k]},
    }


def _alert_changes(before: dict, after: dict) -> dict:
    out = _keyed(before, after)
    for name, items in out["changed"].items():
        thresholds = {i["what"].rsplit(" ", 1)[0] for i in items if i["what"].endswith(" threshold")}
        # the expression of a level whose threshold changed differs only by that number
        out["changed"][name] = [i for i in items if not (i["what"].endswith(" expr")
                                                          and i["what"].rsplit(" ", 1)[0] in thresholds)]
    return out


def oncall_changes(base_model, head_model, since: dt.datetime, weeks: int) -> list[dict]:
    """Per rotation in both sides: the shifts (of HEAD, from the one holding `since`) whose holders differ."""
    out = []
    for head in head_model.rotations:
        base = base_model.rotation(head.id)
        if base is None:
            continue
        length = dt.timedelta(milliseconds=head.length.ms)
        rows = []
        for begin, end, holders in head.shifts(max(since, head.first_handoff), weeks):
            probe = begin + length / 2
            for t in head.tiers:
                was = base.holder(t.id, probe) if any(x.id == t.id for x in base.tiers) else None
                if was != holders[t.id]:
                    rows.append({"from": begin.strftime("%Y-%m-%d %H:%M"), "to": end.strftime("%Y-%m-%d %H:%M"),
                                 "tier": t.id, "before": _person(base_model, was), "after": _person(head_model,
                                                                                                     holders[t.id])})
        if rows:
            out.append({"rotation": head.id, "shifts": len({r["from"] for r in rows}), "of": weeks, "changes": rows})
    return out


def _person(model, pid):
    p = model.person(pid) if pid else None
    return p.name if p else pid


def compare(bm, hm, since: dt.datetime, weeks: int = 12) -> dict:
    """The semantic differences between the models `bm` (base) and `hm` (head), section by section."""
    a, b = snapshot(bm), snapshot(hm)
    return {
        "alerts": _alert_changes(a["alerts"], b["alerts"]),
        "slos": _keyed(a["slos"], b["slos"]),
        "routing": {k: _keyed(_as_map(a["routing"].get(k)), _as_map(b["routing"].get(k)))
                    for k in ("routes", "receivers", "inhibit_rules", "time_intervals")},
        "escalation": _keyed(a["escalation"], b["escalation"]),
        "oncall": {**_keyed(a["rotations"], b["rotations"]), "who": oncall_changes(bm, hm, since, weeks)},
        "dashboards": _keyed(a["dashboards"], b["dashboards"]),
    }


def _as_map(v) -> dict:
    if isinstance(v, list):
        return {x: x for x in v}
    return v or {}


def is_empty(report: dict) -> bool:
    def empty(v):
        if isinstance(v, dict):
            return all(empty(x) for x in v.values())
        return not v
    return empty(report)


# --- Markdown -------------------------------------------------------------------------

def _v(x) -> str:
    if isinstance(x, (list, dict)):
        x = _canon(x)
    return "(none)" if x is None or x == "" else f"`{x}`"


def _keyed_md(part: dict, noun: str, describe=None) -> list[str]:
    lines = [f"- {noun} added: `{k}`" + (f" ({describe(k)})" if describe else "") for k in part["added"]]
    lines += [f"- {noun} removed: `{k}`" for k in part["removed"]]
    for k, items in part["changed"].items():
        lines.append(f"- {noun} `{k}` changed:" if items and items[0]["what"] else f"- {noun} `{k}` changed")
        lines += [f"  - {i['what']}: {_v(i['before'])} → {_v(i['after'])}" for i in items if i["what"]]
    return lines


def render_markdown(report: dict, base: str, head: str) -> str:
    out = [f"## montool diff: `{base}` → `{head}`", ""]
    if is_empty(report):
        return "\n".join(out + ["No change to alerts, SLOs, routing, escalation, on-call or dashboards.", ""])
    body = {
        "alerts": _keyed_md(report["alerts"], "alert"),
        "slos": _keyed_md(report["slos"], "SLO"),
        "routing": [line for k, noun in (("routes", "route"), ("receivers", "receiver"),
                                         ("inhibit_rules", "inhibit rule"), ("time_intervals", "time interval"))
                    for line in _keyed_md(report["routing"][k], noun)],
        "escalation": _keyed_md(report["escalation"], "severity"),
        "oncall": _keyed_md({k: report["oncall"][k] for k in ("added", "removed", "changed")}, "rotation")
        + _who_md(report["oncall"]["who"]),
        "dashboards": _keyed_md(report["dashboards"], "dashboard"),
    }
    for key, title in SECTIONS:
        if body[key]:
            out += [f"### {title}", "", *body[key], ""]
    return "\n".join(out)


def _who_md(who: list[dict]) -> list[str]:
    out = []
    for w in who:
        out += [f"- **Changes who is on call**: rotation `{w['rotation']}`, {w['shifts']} of the next {w['of']} "
                "shifts:", "", "  | From | To | Tier | Before | After |", "  |---|---|---|---|---|"]
        out += [f"  | {r['from']} | {r['to']} | {r['tier']} | {r['before']} | {r['after']} |" for r in w["changes"]]
        out.append("")
    return out
