"""The model: frozen, typed dataclasses built once from a validated spec.

Every default and every inheritance (organisation -> rule -> service override,
kind -> service metrics, slo_defaults -> SLO, severity -> notification timings,
period -> burn-rate windows) is resolved here and nowhere else. Generators only
read the model. References between objects are kept as ids; `checks.py` proves
they resolve. A value that does not parse (a duration, a threshold) is a
problem at its position; all of them are collected before `SpecError` is raised.
"""
from __future__ import annotations

import datetime as dt
import gc
import re
from dataclasses import dataclass, field
from functools import lru_cache
from decimal import Decimal

from . import kinds as K
from .problems import Position, Problem, SpecError
from .values import Duration, Metric, decimal, percent, threshold

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def camel(*parts: str) -> str:
    """`coordinator-api`, `error-rate` -> `CoordinatorApiErrorRate`."""
    words = [w for p in parts for w in re.split(r"[^A-Za-z0-9]+", p) if w]
    return "".join(w[:1].upper() + w[1:] for w in words)


# --- organisation, severities, people ------------------------------------------------

@dataclass(frozen=True)
class Organization:
    name: str
    timezone: str
    team: str
    runbook_base_url: str
    dashboard_base_url: str
    labels: tuple[tuple[str, str], ...]
    scrape_interval: Duration
    evaluation_interval: Duration
    k8s_namespace: str
    k8s_labels: tuple[tuple[str, str], ...]
    secrets_dir: str
    smtp_smarthost: str
    smtp_from: str
    pd_num_loops: int
    pd_ack_timeout: Duration | None
    pd_auto_resolve_timeout: Duration | None
    targets: tuple[tuple[str, str], ...]
    contacts: tuple[tuple[tuple[str, str], ...], ...]


@dataclass(frozen=True)
class Severity:
    id: str
    rank: int                      # 0 is the most severe
    name: str
    meaning: tuple[str, ...]
    response_time: Duration
    escalation_after: Duration
    incident_level: str | None
    channels: tuple[str, ...]
    pd_urgency: str                # high | low | none
    pd_severity: str               # critical | error | warning | info
    group_wait: Duration
    group_interval: Duration
    repeat_interval: Duration
    pos: Position

    @property
    def pages(self) -> bool:
        return "pagerduty" in self.channels and self.pd_urgency != "none"


@dataclass(frozen=True)
class IncidentLevel:
    id: str
    name: str
    criteria: tuple[str, ...]
    pos: Position


@dataclass(frozen=True)
class Team:
    id: str
    name: str


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    phone: str | None
    pos: Position


# --- rotations and escalation -------------------------------------------------------

@dataclass(frozen=True)
class Tier:
    id: str
    offset: int
    phone: str | None
    description: str


@dataclass(frozen=True)
class HandoffStep:
    name: str
    day: str | None
    time: str | None
    duration: Duration | None
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Rotation:
    id: str
    name: str
    members: tuple[str, ...]
    length: Duration
    handoff_day: str               # monday..sunday
    handoff_time: str              # HH:MM
    timezone: str
    start: dt.date
    tiers: tuple[Tier, ...]
    handoff_procedure: tuple[HandoffStep, ...]
    pos: Position

    @property
    def first_handoff(self) -> dt.datetime:
        """The first handoff at or after `start` (naive, in the rotation's time zone)."""
        hh, mm = (int(x) for x in self.handoff_time.split(":"))
        ahead = (WEEKDAYS.index(self.handoff_day) - self.start.weekday()) % 7
        day = self.start + dt.timedelta(days=ahead)
        return dt.datetime(day.year, day.month, day.day, hh, mm)

    def tier(self, tier_id: str) -> Tier:
        return next(t for t in self.tiers if t.id == tier_id)

    def member_order(self, tier_id: str) -> tuple[str, ...]:
        """The members in the order this tier takes its turns (the list shifted by the offset)."""
        k = self.tier(tier_id).offset % len(self.members)
        return self.members[k:] + self.members[:k]

    def holder(self, tier_id: str, when: dt.datetime) -> str:
        """Who holds `tier_id` at `when` (naive, rotation's time zone)."""
        turns = int((when - self.first_handoff) / dt.timedelta(milliseconds=self.length.ms))
        order = self.member_order(tier_id)
        return order[turns % len(order)]

    def shifts(self, start: dt.datetime, count: int) -> list[tuple[dt.datetime, dt.datetime, dict[str, str]]]:
        """`count` consecutive shifts from the one holding `start`: (begin, end, {tier: member})."""
        length = dt.timedelta(milliseconds=self.length.ms)
        turns = (start - self.first_handoff) // length
        out = []
        for i in range(count):
            begin = self.first_handoff + (turns + i) * length
            out.append((begin, begin + length, {t.id: self.holder(t.id, begin) for t in self.tiers}))
        return out


@dataclass(frozen=True)
class Target:
    kind: str                      # rotation | person
    id: str                        # rotation or person id
    tier: str | None = None


@dataclass(frozen=True)
class EscalationLevel:
    number: int                    # 1-based
    name: str
    target: Target
    severities: tuple[str, ...] | None   # None: every severity
    pos: Position


@dataclass(frozen=True)
class EscalationPolicy:
    """The escalation path of one paging severity: its levels, each `delay` apart."""

    id: str                        # e.g. p0
    severity: str
    name: str
    delay: Duration
    num_loops: int
    levels: tuple[EscalationLevel, ...]


# --- channels and maintenance --------------------------------------------------------

@dataclass(frozen=True)
class Channel:
    id: str
    type: str                      # pagerduty | slack | email | sms | phone | webhook
    description: str
    slack_channel: str | None
    email_to: str | None
    via: str | None
    api_url_file: str | None
    url: str | None                # webhook (not a secret: an in-cluster endpoint)
    pos: Position


@dataclass(frozen=True)
class MaintenanceWindow:
    id: str
    description: str
    days: tuple[str, ...]          # weekly windows
    start_time: str | None         # HH:MM (weekly)
    end_time: str | None
    start: dt.datetime | None      # one-off windows
    end: dt.datetime | None
    timezone: str
    mute_severities: tuple[str, ...]
    services: tuple[str, ...] | None    # None: every service
    notice: Duration | None
    pos: Position

    @property
    def weekly(self) -> bool:
        return bool(self.days)


@dataclass(frozen=True)
class PagerDutyService:
    """One PagerDuty service per monitored service and paging severity.

    A PagerDuty service has one escalation policy, and each severity has its own
    delays; so `coordinator-api-p0` uses the P0 policy. Alertmanager's receiver
    for (service, severity) reads the Events API v2 key from `routing_key_file`,
    which Terraform's integration key output fills.
    """

    id: str                        # coordinator-api-p0 (also the Terraform name, with _)
    service: str
    severity: str
    name: str                      # "Coordinator API (P0)"
    description: str
    policy: str                    # EscalationPolicy.id
    routing_key_file: str

    @property
    def tf_name(self) -> str:
        return self.id.replace("-", "_")


# --- alerts, SLOs, runbooks, panels --------------------------------------------------

@dataclass(frozen=True)
class Condition:
    """`signal op threshold`, evaluated over `window`; `expr` is its PromQL."""

    signal: str
    op: str
    threshold: Decimal
    window: Duration
    expr: str
    unit: str


@dataclass(frozen=True)
class AlertLevel:
    severity: str
    threshold: Decimal


@dataclass(frozen=True)
class Alert:
    """A threshold alert of one service; one Prometheus rule per level, same alertname."""

    rule: str                      # the rule id in the spec (also the runbook anchor part)
    name: str                      # CamelCase alertname
    service: str
    summary: str
    signal: str
    unit: str
    op: str
    levels: tuple[AlertLevel, ...]  # most severe first
    window: Duration
    for_: Duration
    signal_expr: str               # the signal's PromQL (without the comparison)
    also: tuple[Condition, ...]    # more conditions that must hold too
    by: tuple[str, ...]            # labels the signal keeps
    runbook: str | None
    pos: Position

    def expr(self, level: AlertLevel) -> str:
        parts = [f"({self.signal_expr}) {self.op} {_num(level.threshold)}"]
        parts += [f"({c.expr}) {c.op} {_num(c.threshold)}" for c in self.also]
        if len(parts) == 1:
            return parts[0]
        # `and on()` joins one-series conditions whatever labels each side keeps
        return " and on() ".join(f"({p})" for p in parts)


@dataclass(frozen=True)
class BurnTier:
    """One multi-window burn-rate condition (SRE workbook, chapter 5)."""

    name: str                      # page-fast | page-slow | ticket-fast | ticket-slow
    alert: str                     # page | ticket
    severity: str
    long: Duration
    short: Duration
    factor: Decimal
    budget_consumed: Decimal       # share of the period's budget spent when it fires


@dataclass(frozen=True)
class SLO:
    id: str
    service: str
    name: str                      # CamelCase, e.g. CoordinatorApiAvailability
    type: str                      # availability | success_rate | latency | average
    description: str
    objective: Decimal             # fraction of good events (ratio types)
    window: Duration
    threshold: Decimal | None      # seconds (latency bucket, average ceiling)
    # Event series (counter selectors without rate()):
    total_series: str | None
    error_series: str | None       # availability, success_rate
    good_series: str | None        # latency: the bucket at the threshold
    sum_series: str | None         # average: <histogram>_sum
    count_series: str | None       # average: <histogram>_count
    tiers: tuple[BurnTier, ...]
    severity: str                  # average objectives: the severity of a breach
    min_request_rate: Decimal
    pos: Position

    @property
    def error_budget(self) -> Decimal:
        return 1 - self.objective

    @property
    def objective_percent(self) -> Decimal:
        return (self.objective * 100).normalize()


@dataclass(frozen=True)
class Runbook:
    id: str
    title: str
    symptoms: tuple[str, ...]
    steps: tuple[str, ...]
    pos: Position


@dataclass(frozen=True)
class Panel:
    title: str
    metric_key: str
    metric: Metric | None
    rate: bool
    unit: str
    dashboard: str
    pos: Position


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    description: str
    kind: str
    team: str
    selector: tuple[tuple[str, str, str], ...]
    metrics: tuple[tuple[str, Metric], ...]    # key -> metric, kind defaults merged
    histogram_buckets: tuple[Decimal, ...]
    slos: tuple[SLO, ...]
    alerts: tuple[Alert, ...]
    runbooks: tuple[Runbook, ...]
    panels: tuple[Panel, ...]
    pos: Position

    def metric(self, key: str) -> Metric | None:
        return dict(self.metrics).get(key)

    @property
    def camel(self) -> str:
        return camel(self.id)

    @property
    def http_like(self) -> bool:
        return self.kind in K.HTTP_LIKE

    def signal_expr(self, signal: str, window: Duration | None = None) -> str:
        return render_signal(K.SIGNALS[signal], dict(self.metrics), window)


@dataclass(frozen=True)
class Dashboard:
    id: str
    title: str
    description: str
    sections: tuple[str, ...]
    refresh: Duration
    time: Duration
    pos: Position


@dataclass(frozen=True)
class Phase:
    name: str
    within: Duration | None
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Model:
    source: str                    # the spec path as given, for headers
    organization: Organization
    teams: tuple[Team, ...]
    severities: tuple[Severity, ...]
    incident_levels: tuple[IncidentLevel, ...]
    people: tuple[Person, ...]
    rotations: tuple[Rotation, ...]
    escalation: tuple[EscalationLevel, ...]
    policies: tuple[EscalationPolicy, ...]
    pagerduty_services: tuple[PagerDutyService, ...]
    channels: tuple[Channel, ...]
    maintenance_windows: tuple[MaintenanceWindow, ...]
    services: tuple[Service, ...]
    dashboards: tuple[Dashboard, ...]
    process: tuple[tuple[str, tuple[Phase, ...]], ...]
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    def _get(self, kind: str, key: str):
        if kind not in self._index:
            self._index[kind] = {x.id: x for x in getattr(self, kind)}
        return self._index[kind].get(key)

    def severity(self, sid: str) -> Severity | None:
        return self._get("severities", sid)

    def service(self, sid: str) -> Service | None:
        return self._get("services", sid)

    def person(self, pid: str) -> Person | None:
        return self._get("people", pid)

    def rotation(self, rid: str) -> Rotation | None:
        return self._get("rotations", rid)

    def channel(self, cid: str) -> Channel | None:
        return self._get("channels", cid)

    def team(self, tid: str) -> Team | None:
        return self._get("teams", tid)

    def _cached(self, key: str, make):
        """A derived value computed once per model (the model is immutable)."""
        if key not in self._index:
            self._index[key] = make()
        return self._index[key]

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return self._cached("alerts", lambda: tuple(a for s in self.services for a in s.alerts))

    @property
    def slos(self) -> tuple[SLO, ...]:
        return self._cached("slos", lambda: tuple(o for s in self.services for o in s.slos))

    def policy(self, severity: str) -> EscalationPolicy | None:
        def index() -> dict:
            out: dict = {}
            for p in self.policies:
                out.setdefault(p.severity, p)                # the first match, as a scan would find
            return out
        return self._cached("policy", index).get(severity)

    def pagerduty_service(self, service: str, severity: str) -> PagerDutyService | None:
        def index() -> dict:
            out: dict = {}
            for p in self.pagerduty_services:
                out.setdefault((p.service, p.severity), p)   # the first match, as a scan would find
            return out
        return self._cached("pagerduty_service", index).get((service, severity))

    # --- stable identities shared by every target ---------------------------------

    def dashboard_uid(self, *parts: str) -> str:
        """`aitbc-slo-coordinator-api`: derived from names, at most 40 characters."""
        key = ("dashboard_uid",) + parts
        if key not in self._index:
            self._index[key] = stable_id(self.organization.name, *parts)
        return self._index[key]

    def service_dashboard_uid(self, service: str) -> str:
        """The dashboard an alert of `service` links to: its RED dashboard for HTTP-like
        services, its SLO dashboard when it has SLOs, else the Infrastructure dashboard
        (infrastructure kinds) or the System Overview."""
        svc = self.service(service)
        if svc and svc.http_like:
            return self.dashboard_uid("red", service)
        if svc and svc.slos:
            return self.dashboard_uid("slo", service)
        if svc and svc.kind in ("postgresql", "redis", "kubernetes"):
            return self.dashboard_uid("infrastructure")
        return self.dashboard_uid("system-overview")

    def dashboard_url(self, uid: str) -> str:
        return f"{self.organization.dashboard_base_url}/d/{uid}"

    def runbook_url(self, service: str, alertname: str) -> str:
        """The generated runbook page of `service`, anchored at the alert's section."""
        return f"{self.organization.runbook_base_url}/{service}.html#{alertname.lower()}"


def stable_id(*parts: str, limit: int = 40) -> str:
    """Lower-case, dash-joined slug of `parts`; longer than `limit`, it keeps a prefix
    and an 8-character hash of the full slug (still derived from names only)."""
    import hashlib

    slug = "-".join(w for p in parts for w in re.split(r"[^a-z0-9]+", p.lower()) if w)
    if len(slug) <= limit:
        return slug
    digest = hashlib.sha256(slug.encode()).hexdigest()[:8]
    return f"{slug[: limit - 9].rstrip('-')}-{digest}"


# --- PromQL rendering of signals ----------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([^{}]*))?\}")


def _num(d: Decimal) -> str:
    text = format(d.normalize(), "f") if isinstance(d, Decimal) else repr(d)
    return text[:-2] if text.endswith(".0") else text


def render_signal(signal: K.Signal, metrics: dict[str, Metric], window: Duration | None) -> str:
    w = str(window) if window else signal.window

    def sub(m: re.Match) -> str:
        key, extra = m.group(1), m.group(2) or ""
        if key == "w":
            return w
        for suffix in ("", "_bucket", "_sum", "_count"):
            base = key[: len(key) - len(suffix)] if suffix and key.endswith(suffix) else key
            if (not suffix or key.endswith(suffix)) and base in metrics:
                return metrics[base].selector(extra, suffix if base != key else "")
        raise KeyError(key)

    return _PLACEHOLDER.sub(sub, signal.template)


# --- building ----------------------------------------------------------------------

WORKBOOK_TIERS = (
    # name, alert, long window at 30 days, budget consumed when it fires
    ("page-fast", "page", Duration.parse("1h"), Decimal("0.02")),
    ("page-slow", "page", Duration.parse("6h"), Decimal("0.05")),
    ("ticket-fast", "ticket", Duration.parse("1d"), Decimal("0.1")),
    ("ticket-slow", "ticket", Duration.parse("3d"), Decimal("0.1")),
)
WORKBOOK_PERIOD = Duration.parse("30d")
MIN_LONG_WINDOW = Duration.parse("5m")


@lru_cache(maxsize=256)        # pure, on immutable values; SLOs share a few periods and budgets
def burn_tiers(period: Duration, budget: Decimal, scrape: Duration,
               page_severity: str, ticket_severity: str) -> tuple[BurnTier, ...]:
    """The workbook's four tiers, scaled to `period`.

    Long windows scale with period / 30d (rounded to whole minutes, no shorter than
    5m); each short window is 1/12 of its long window, no shorter than 4 scrape
    intervals. The factor keeps the share of the budget consumed when the alert
    fires: factor = budget_consumed x period / long window (capped so the error
    ratio threshold never exceeds 100%). For 30 days this is exactly the
    workbook's 14.4x 1h/5m, 6x 6h/30m, 3x 1d/2h, 1x 3d/6h.
    """
    minute = 60_000
    floor_short = scrape * 4
    out = []
    for name, alert, long30, consumed in WORKBOOK_TIERS:
        long_ms = round(long30.ms * period.ms / WORKBOOK_PERIOD.ms / minute) * minute
        long = max(Duration(long_ms), MIN_LONG_WINDOW)
        short_ms = round(long.ms / 12 / minute) * minute
        short = max(Duration(short_ms), floor_short)
        factor = (consumed * Decimal(period.ms) / Decimal(long.ms)).quantize(Decimal("0.0001")).normalize()
        if budget > 0 and factor * budget > 1:
            factor = (1 / budget).quantize(Decimal("0.0001")).normalize()
        sev = page_severity if alert == "page" else ticket_severity
        out.append(BurnTier(name, alert, sev, long, short, factor, consumed))
    return tuple(out)


class _Builder:
    """Reads the validated data; a value that does not parse becomes a problem."""

    def __init__(self, doc):
        self.doc = doc
        self.problems: list[Problem] = []

    def pos(self, *parts) -> Position:
        return self.doc.locate(tuple(parts))

    def fail(self, parts, message, rule="model/value"):
        self.problems.append(self.doc.problem(tuple(parts), message, rule))

    def parse(self, fn, value, parts, default=None):
        if value is None:
            return default
        try:
            return fn(value)
        except (ValueError, KeyError) as e:
            # str(KeyError) adds quotes; a ValueError's own text may start with one
            self.fail(parts, str(e.args[0]) if e.args else str(e))
            return default

    def duration(self, value, parts, default=None):
        return self.parse(_parse_duration, value, parts, default)


@lru_cache(maxsize=1024)
def _duration_text(text: str) -> Duration:
    return Duration.parse(text)


def _parse_duration(value) -> Duration:
    """Duration.parse, remembered per text (a spec repeats a few durations many times;
    Durations are immutable). Errors are not remembered: they raise again."""
    return _duration_text(value) if isinstance(value, str) else Duration.parse(value)


def build_model(doc, source: str | None = None) -> Model:
    enabled = gc.isenabled()
    gc.disable()               # the model is acyclic data; collector passes only cost time here
    try:
        return _build_model(doc, source)
    finally:
        if enabled:
            gc.enable()


def _build_model(doc, source: str | None) -> Model:
    b = _Builder(doc)
    d = doc.data
    org = _organization(b, d.get("organization", {}))
    severities = _severities(b, d.get("severities", {}))
    services = tuple(_service(b, org, d, sid, s) for sid, s in d.get("services", {}).items())
    escalation = tuple(
        EscalationLevel(
            i + 1, lv.get("name") or _target_name(lv["target"]),
            Target("rotation", lv["target"]["rotation"], lv["target"].get("tier"))
            if "rotation" in lv["target"] else Target("person", lv["target"].get("person", "")),
            tuple(lv["severities"]) if "severities" in lv else None,
            b.pos("escalation", "levels", i))
        for i, lv in enumerate(d.get("escalation", {}).get("levels", [])))
    policies = tuple(
        EscalationPolicy(
            s.id.lower(), s.id, f"{org.name} {s.id} {s.name}", s.escalation_after,
            org.pd_num_loops,
            tuple(lv for lv in escalation if lv.severities is None or s.id in lv.severities))
        for s in severities if s.pages)
    model = Model(
        source=source or (doc.files[0] if len(doc.files) == 1 else str(doc.root)),
        organization=org,
        teams=tuple(Team(k, v.get("name", k)) for k, v in d.get("teams", {}).items()),
        severities=severities,
        incident_levels=tuple(
            IncidentLevel(k, v.get("name", k), tuple(v.get("criteria", [])), b.pos("incident_levels", k))
            for k, v in d.get("incident_levels", {}).items()),
        people=tuple(Person(k, v.get("name", k), v.get("email", ""), v.get("phone"), b.pos("people", k))
                     for k, v in d.get("people", {}).items()),
        rotations=tuple(_rotation(b, org, k, v) for k, v in d.get("rotations", {}).items()),
        escalation=escalation,
        policies=policies,
        pagerduty_services=tuple(
            PagerDutyService(f"{svc.id}-{p.id}", svc.id, p.severity, f"{svc.name} ({p.severity})",
                             f"{svc.description} - {p.severity} alerts", p.id,
                             f"{org.secrets_dir}/pagerduty/{svc.id}-{p.id}.key")
            for svc in services for p in policies),
        channels=tuple(_channel(b, org, k, v) for k, v in d.get("channels", {}).items()),
        maintenance_windows=tuple(_window(b, org, k, v) for k, v in d.get("maintenance_windows", {}).items()),
        services=services,
        dashboards=tuple(
            Dashboard(k, v.get("title", k), v.get("description", ""), tuple(v.get("sections", [])),
                      b.duration(v.get("refresh"), ("dashboards", k, "refresh"), Duration.parse("1m")),
                      b.duration(v.get("time"), ("dashboards", k, "time"), Duration.parse("6h")),
                      b.pos("dashboards", k))
            for k, v in d.get("dashboards", {}).items()),
        process=tuple(
            (k, tuple(Phase(p["name"], b.duration(p.get("within"), ("process", k, i, "within")),
                            tuple(p.get("steps", []))) for i, p in enumerate(v)))
            for k, v in d.get("process", {}).items()),
    )
    if b.problems:
        raise SpecError(b.problems)
    return model


def _target_name(target: dict) -> str:
    if "rotation" in target:
        return f"{target['rotation']} {target.get('tier', '')}".strip()
    return target.get("person", "")


def _pairs(mapping) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in (mapping or {}).items()))


def _organization(b: _Builder, o: dict) -> Organization:
    prom, k8s, am, pd = (o.get(k, {}) for k in ("prometheus", "kubernetes", "alertmanager", "pagerduty"))
    return Organization(
        name=o.get("name", "montool"),
        timezone=o.get("timezone", "UTC"),
        team=o.get("team", "sre"),
        runbook_base_url=o.get("runbook_base_url", "").rstrip("/"),
        dashboard_base_url=o.get("dashboard_base_url", "").rstrip("/"),
        labels=_pairs(o.get("labels")),
        scrape_interval=b.duration(prom.get("scrape_interval", "30s"), ("organization", "prometheus", "scrape_interval")),
        evaluation_interval=b.duration(prom.get("evaluation_interval", "30s"),
                                       ("organization", "prometheus", "evaluation_interval")),
        k8s_namespace=k8s.get("namespace", "monitoring"),
        k8s_labels=_pairs(k8s.get("labels")),
        secrets_dir=am.get("secrets_dir", "/etc/alertmanager/secrets").rstrip("/"),
        smtp_smarthost=am.get("smtp_smarthost", "localhost:25"),
        smtp_from=am.get("smtp_from", "alertmanager@localhost"),
        pd_num_loops=pd.get("num_loops", 1),
        pd_ack_timeout=b.duration(pd.get("acknowledgement_timeout"), ("organization", "pagerduty", "acknowledgement_timeout")),
        pd_auto_resolve_timeout=b.duration(pd.get("auto_resolve_timeout"), ("organization", "pagerduty", "auto_resolve_timeout")),
        targets=tuple((str(k), str(v)) for k, v in (o.get("targets") or {}).items()),
        contacts=tuple(tuple((str(k), str(v)) for k, v in c.items()) for c in o.get("contacts", [])),
    )


def _clamp(d: Duration, lo: str, hi: str) -> Duration:
    return min(max(d, Duration.parse(lo)), Duration.parse(hi))


def _severities(b: _Builder, data: dict) -> tuple[Severity, ...]:
    out = []
    for rank, (sid, s) in enumerate(data.items()):
        at = ("severities", sid)
        response = b.duration(s.get("response_time"), at + ("response_time",), Duration.parse("1h"))
        escalation = b.duration(s.get("escalation_after"), at + ("escalation_after",), Duration.parse("1h"))
        pd = s.get("pagerduty", {})
        channels = tuple(s.get("channels", []))
        pages = "pagerduty" in channels and pd.get("urgency", "high") != "none"
        notify = s.get("notify", {})
        # Derived timings: wait a tenth of the response time before the first
        # notification (10s..5m), batch new alerts at a fifth of it (1m..1h); repeat a
        # paging alert three times inside the escalation delay, a non-paging one once
        # per escalation delay (so P3 does not nag).
        defaults = {
            "group_wait": _clamp(response / 10, "10s", "5m"),
            "group_interval": _clamp(response / 5, "1m", "1h"),
            "repeat_interval": escalation / 3 if pages else escalation,
        }
        timings = {k: b.duration(notify.get(k), at + ("notify", k), v) for k, v in defaults.items()}
        out.append(Severity(
            id=sid, rank=rank, name=s.get("name", sid), meaning=tuple(s.get("meaning", [])),
            response_time=response, escalation_after=escalation,
            incident_level=s.get("incident_level"), channels=channels,
            pd_urgency=pd.get("urgency", "high" if pages else "none"),
            pd_severity=pd.get("severity", "critical"), pos=b.pos(*at), **timings))
    return tuple(out)


def _rotation(b: _Builder, org: Organization, rid: str, r: dict) -> Rotation:
    at = ("rotations", rid)
    handoff = r.get("handoff", {})
    start = b.parse(dt.date.fromisoformat, r.get("start"), at + ("start",), dt.date(2024, 1, 1))
    return Rotation(
        id=rid, name=r.get("name", rid), members=tuple(r.get("members", [])),
        length=b.duration(r.get("length", "1w"), at + ("length",), Duration.parse("1w")),
        handoff_day=handoff.get("day", "monday"), handoff_time=handoff.get("time", "00:00"),
        timezone=r.get("timezone", org.timezone), start=start,
        tiers=tuple(Tier(k, v.get("offset", i), v.get("phone"), v.get("description", ""))
                    for i, (k, v) in enumerate((r.get("tiers") or {"primary": {}}).items())),
        handoff_procedure=tuple(
            HandoffStep(h["name"], h.get("at", {}).get("day"), h.get("at", {}).get("time"),
                        b.duration(h.get("duration"), at + ("handoff_procedure", i, "duration")),
                        tuple(h.get("steps", [])))
            for i, h in enumerate(r.get("handoff_procedure", []))),
        pos=b.pos(*at))


def _channel(b: _Builder, org: Organization, cid: str, c: dict) -> Channel:
    kind = c.get("type", cid)
    api_url_file = c.get("api_url_file")
    if kind == "slack" and not api_url_file:
        api_url_file = f"{org.secrets_dir}/slack/{cid}.url"
    return Channel(cid, kind, c.get("description", ""), c.get("channel"), c.get("to"), c.get("via"),
                   api_url_file, c.get("url"), b.pos("channels", cid))


def _window(b: _Builder, org: Organization, wid: str, w: dict) -> MaintenanceWindow:
    at = ("maintenance_windows", wid)
    weekly = w.get("weekly", {})
    once = w.get("once", {})

    def stamp(key):
        return b.parse(lambda v: dt.datetime.fromisoformat(str(v).replace("Z", "+00:00")),
                       once.get(key), at + ("once", key))

    return MaintenanceWindow(
        id=wid, description=w.get("description", ""), days=tuple(weekly.get("days", [])),
        start_time=weekly.get("start"), end_time=weekly.get("end"),
        start=stamp("start"), end=stamp("end"), timezone=w.get("timezone", org.timezone),
        mute_severities=tuple(w.get("mute_severities", [])),
        services=tuple(w["services"]) if "services" in w else None,
        notice=b.duration(w.get("notice"), at + ("notice",)), pos=b.pos(*at))


def _service(b: _Builder, org: Organization, d: dict, sid: str, s: dict) -> Service:
    at = ("services", sid)
    kind = s.get("kind", "http-api")
    selector = b.parse(lambda m: tuple((k, "=", str(v)) for k, v in m.items()), s.get("selector"),
                       at + ("selector",), ())
    raw_metrics = {**K.KINDS.get(kind, {}), **(s.get("metrics") or {})}
    metrics = {}
    for key, text in raw_metrics.items():
        metric = b.parse(lambda t: Metric.parse(t, selector), text, at + ("metrics", key))
        if metric:
            metrics[key] = metric
    buckets = tuple(b.parse(decimal, x, at + ("histogram_buckets", i), Decimal(0))
                    for i, x in enumerate(s.get("histogram_buckets", [])))
    return Service(
        id=sid, name=s.get("name", sid), description=s.get("description", ""), kind=kind,
        team=s.get("team", org.team), selector=selector, metrics=tuple(sorted(metrics.items())),
        histogram_buckets=buckets,
        slos=tuple(_slo(b, org, _slo_defaults(d), sid, metrics, k, v)
                   for k, v in (s.get("slos") or {}).items()),
        alerts=_alerts(b, d.get("alert_rules", {}), sid, kind, metrics, s.get("alerts") or {}),
        runbooks=tuple(Runbook(k, v.get("title", k), tuple(v.get("symptoms", [])), tuple(v.get("steps", [])),
                               b.pos(*at, "runbooks", k))
                       for k, v in (s.get("runbooks") or {}).items()),
        panels=tuple(Panel(p["title"], p["metric"], metrics.get(p["metric"]), p.get("rate", False),
                           p.get("unit", "short"), p.get("dashboard", "application-metrics"),
                           b.pos(*at, "panels", i))
                     for i, p in enumerate(s.get("panels", []))),
        pos=b.pos(*at))


def _slo_defaults(d: dict) -> dict:
    """slo_defaults with the burn severities defaulted: the page tier takes the most
    severe severity, the ticket tier the least severe one that still pages."""
    sev = d.get("severities", {})
    paging = [k for k, v in sev.items() if "pagerduty" in v.get("channels", [])
              and v.get("pagerduty", {}).get("urgency", "high") != "none"]
    out = {}
    if sev:
        out = {"page_severity": next(iter(sev)), "ticket_severity": (paging or list(sev))[-1]}
    return {**out, **d.get("slo_defaults", {})}


def _applies(rule: dict, sid: str, kind: str) -> bool:
    return kind in rule.get("kinds", []) or sid in rule.get("services", [])


def _alerts(b: _Builder, rules: dict, sid: str, kind: str, metrics: dict, overrides: dict) -> tuple[Alert, ...]:
    out = []
    names = list(rules) + [k for k in overrides if k not in rules]
    for rid in names:
        base = rules.get(rid, {})
        over = overrides.get(rid)
        if over is None and not _applies(base, sid, kind):
            continue
        if over is not None and over.get("enabled") is False:
            continue
        merged = {**base, **(over or {})}
        overridden = over is not None and (rid not in rules or set(over) - {"runbook", "enabled"})
        where = ("services", sid, "alerts", rid) if overridden else ("alert_rules", rid)
        signal = K.SIGNALS.get(merged.get("signal", ""))
        if signal is None:
            continue  # reported by checks (unknown signal)
        if any(m not in metrics for m in signal.needs):
            continue  # reported by checks (missing metric)
        window = b.duration(merged.get("window"), (*where, "window"), _parse_duration(signal.window))
        levels = tuple(
            AlertLevel(sev, b.parse(lambda v: threshold(v, signal.unit), v, (*where, "levels", sev), Decimal(0)))
            for sev, v in (merged.get("levels") or {}).items())
        also = []
        for i, c in enumerate(merged.get("and", [])):
            cs = K.SIGNALS.get(c.get("signal", ""))
            if cs is None or any(m not in metrics for m in cs.needs):
                continue
            cw = b.duration(c.get("window"), (*where, "and", i, "window"), window)
            also.append(Condition(cs.name, c.get("op", ">"),
                                  b.parse(lambda v: threshold(v, cs.unit), c.get("threshold"),
                                          (*where, "and", i, "threshold"), Decimal(0)),
                                  cw, render_signal(cs, metrics, cw), cs.unit))
        out.append(Alert(
            rule=rid, name=camel(sid, rid), service=sid, summary=merged.get("summary", ""),
            signal=signal.name, unit=signal.unit, op=merged.get("op", ">"), levels=levels,
            window=window, for_=b.duration(merged.get("for"), (*where, "for"), _parse_duration("5m")),
            signal_expr=render_signal(signal, metrics, window), also=tuple(also), by=signal.by,
            runbook=merged.get("runbook"), pos=b.pos(*where)))
    return tuple(out)


def _slo(b: _Builder, org: Organization, defaults: dict, sid: str, metrics: dict, oid: str, o: dict) -> SLO:
    at = ("services", sid, "slos", oid)
    kind = o.get("type", "availability")
    window = b.duration(o.get("window", defaults.get("window", "30d")), at + ("window",), _parse_duration("30d"))
    objective = b.parse(percent, o.get("objective", 99.9 if kind != "average" else 100), at + ("objective",),
                        Decimal("0.999"))
    thr = None
    if "threshold" in o:
        thr = b.parse(lambda v: threshold(v, K.SECONDS), o["threshold"], at + ("threshold",), Decimal(0))
    series = dict(total_series=None, error_series=None, good_series=None, sum_series=None, count_series=None)
    if kind == "availability" and "requests" in metrics:
        series["total_series"] = metrics["requests"].selector()
        series["error_series"] = metrics["requests"].selector('code=~"5.."')
    elif kind == "success_rate" and o.get("metric") in metrics:
        m = metrics[o["metric"]]
        series["total_series"] = m.selector()
        series["error_series"] = m.selector(",".join(f'{k}="{v}"' for k, v in (o.get("errors") or {}).items()))
    elif kind == "latency" and o.get("metric", "duration") in metrics and thr is not None:
        m = metrics[o.get("metric", "duration")]
        series["total_series"] = m.selector(suffix="_count")
        series["good_series"] = m.selector(f'le="{_num(thr)}"', suffix="_bucket")
    elif kind == "average" and o.get("metric") in metrics:
        m = metrics[o["metric"]]
        series["sum_series"] = m.selector(suffix="_sum")
        series["count_series"] = m.selector(suffix="_count")
    budget = 1 - objective
    tiers = () if kind == "average" else burn_tiers(
        window, budget, org.scrape_interval,
        o.get("page_severity", defaults.get("page_severity", "P0")),
        o.get("ticket_severity", defaults.get("ticket_severity", "P2")))
    return SLO(
        id=oid, service=sid, name=camel(sid, oid), type=kind, description=o.get("description", ""),
        objective=objective, window=window, threshold=thr, tiers=tiers,
        severity=o.get("severity", defaults.get("ticket_severity", "")),
        min_request_rate=b.parse(decimal, o.get("min_request_rate", defaults.get("min_request_rate", 0.1)),
                                 at + ("min_request_rate",), Decimal("0.1")),
        pos=b.pos(*at), **series)
