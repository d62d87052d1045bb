"""Alertmanager target: maintenance windows as time intervals (weekly and one-off),
the kube-prometheus-stack values, and the notification templates rendered by amtool."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from conftest import REPO_ROOT
from generators import alertmanager, tools
from generators.oncall import load_model

SPEC = REPO_ROOT / "spec" / "aitbc.yaml"


@pytest.fixture(scope="module")
def model():
    return load_model(SPEC)


def generated(model) -> dict[str, str]:
    return {f.path: f.content for f in alertmanager.generate(model)}


def stage(model, root: Path) -> Path:
    for path, text in generated(model).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


def config_of(model) -> dict:
    return yaml.safe_load(generated(model)["alertmanager/alertmanager.yml"])


def with_windows(model, *windows):
    return dataclasses.replace(model, maintenance_windows=tuple(windows), _index={})


def one_off(model, wid, start, end, tz="UTC", mute=("P2",), services=None):
    base = model.maintenance_windows[0]
    return dataclasses.replace(base, id=wid, days=(), start_time=None, end_time=None, start=start, end=end,
                               timezone=tz, mute_severities=tuple(mute), services=services)


def route_of(config, severity):
    return next(r for r in config["route"]["routes"] if r.get("matchers") == [f'severity="{severity}"'])


# --- an independent reading of Alertmanager's time interval semantics ------------------

def _in(value: int, ranges) -> bool:
    if ranges is None:
        return True
    for r in ranges:
        lo, _, hi = str(r).partition(":")
        if int(lo) <= value <= int(hi or lo):
            return True
    return False


def active(intervals: list[dict], when: dt.datetime) -> bool:
    """Whether `when` (aware) falls in any of the intervals."""
    for i in intervals:
        t = when.astimezone(ZoneInfo(i.get("location", "UTC")))
        minute = t.hour * 60 + t.minute
        weekdays = i.get("weekdays")
        if weekdays and t.strftime("%A").lower() not in weekdays:
            continue
        if not (_in(t.year, i.get("years")) and _in(t.month, i.get("months"))
                and _in(t.day, i.get("days_of_month"))):
            continue
        times = i.get("times")
        if times and not any(
                int(x["start_time"][:2]) * 60 + int(x["start_time"][3:]) <= minute
                < int(x["end_time"][:2]) * 60 + int(x["end_time"][3:]) for x in times):
            continue
        return True
    return False


def test_weekly_window_sunday_two_to_four_utc_mutes_p2_and_p3_only(model):
    config = config_of(model)
    (interval,) = config["time_intervals"]
    assert interval["name"] == "weekly-maintenance"
    sunday = dt.datetime(2025, 1, 5, tzinfo=dt.timezone.utc)      # a Sunday
    assert sunday.weekday() == 6
    spans = interval["time_intervals"]
    assert not active(spans, sunday + dt.timedelta(hours=1, minutes=59))
    assert active(spans, sunday + dt.timedelta(hours=2))
    assert active(spans, sunday + dt.timedelta(hours=3, minutes=59))
    assert not active(spans, sunday + dt.timedelta(hours=4))
    assert not active(spans, sunday + dt.timedelta(days=1, hours=3))
    for sev in ("P0", "P1", "P2", "P3"):
        severity_routes = [route_of(config, sev), *route_of(config, sev)["routes"]]
        muted = [r.get("mute_time_intervals") == ["weekly-maintenance"] for r in severity_routes]
        assert all(muted) if sev in ("P2", "P3") else not any(muted), sev


@pytest.mark.parametrize("start, end, tz", [
    ("2025-03-30T22:30:20+00:00", "2025-04-02T01:15:00+00:00", "UTC"),        # crosses a month end
    ("2024-12-31T23:00:00+00:00", "2025-01-01T00:00:00+00:00", "UTC"),        # ends at midnight
    ("2025-06-10T09:00:00+00:00", "2025-06-10T09:45:30+00:00", "UTC"),        # within one day
    ("2025-03-29T23:00:00+00:00", "2025-03-31T06:00:00+00:00", "Europe/Berlin"),  # across a DST change
    ("2025-02-27T12:00:00", "2025-03-02T12:00:00", "America/New_York"),       # naive: local time
])
def test_one_off_window_covers_exactly_its_minutes(model, start, end, tz):
    start_t, end_t = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
    m = with_windows(model, one_off(model, "migration", start_t, end_t, tz))
    (interval,) = config_of(m)["time_intervals"]
    assert interval["name"] == "migration"
    zone = ZoneInfo(tz)
    aware = [t if t.tzinfo else t.replace(tzinfo=zone) for t in (start_t, end_t)]
    first = aware[0].replace(second=0)                          # rounded outward to the minute
    last = aware[1] if aware[1].second == 0 else aware[1].replace(second=0) + dt.timedelta(minutes=1)
    t = first - dt.timedelta(hours=3)
    while t < last + dt.timedelta(hours=3):
        assert active(interval["time_intervals"], t) == (first <= t < last), t
        t += dt.timedelta(minutes=15) if first - dt.timedelta(minutes=20) > t or t > last + dt.timedelta(
            minutes=20) else dt.timedelta(minutes=1)


def test_one_off_window_restricted_to_services_passes_amtool(model, tmp_path):
    window = one_off(model, "redis-upgrade", dt.datetime(2025, 5, 3, 22, 0, tzinfo=dt.timezone.utc),
                     dt.datetime(2025, 5, 5, 5, 0, tzinfo=dt.timezone.utc), mute=("P1", "P2"),
                     services=("redis", "postgresql"))
    m = with_windows(model, model.maintenance_windows[0], window)
    config = config_of(m)
    assert [i["name"] for i in config["time_intervals"]] == ["weekly-maintenance", "redis-upgrade"]
    assert len(config["time_intervals"][1]["time_intervals"]) == 3   # partial, whole and partial day
    p1 = route_of(config, "P1")
    mutes = {(r["receiver"], tuple(r.get("matchers", []))): r.get("mute_time_intervals", []) for r in p1["routes"]}
    assert mutes[("pagerduty-redis-p1", ('service="redis"',))] == ["redis-upgrade"]
    assert mutes[("pagerduty-coordinator-api-p1", ('service="coordinator-api"',))] == []
    slack = {k[1]: v for k, v in mutes.items() if k[0] == "slack"}
    assert slack == {('service=~"postgresql|redis"',): ["redis-upgrade"], ('service!~"postgresql|redis"',): []}
    p2 = route_of(config, "P2")
    assert {r["receiver"]: r["mute_time_intervals"] for r in p2["routes"]
            if r["receiver"] in ("pagerduty-redis-p2", "pagerduty-explorer-ui-p2")} == {
        "pagerduty-redis-p2": ["weekly-maintenance", "redis-upgrade"],
        "pagerduty-explorer-ui-p2": ["weekly-maintenance"]}
    # routing itself is unchanged: every case still reaches the same receivers
    assert alertmanager.validate(stage(m, tmp_path), m) == []
    assert alertmanager.routing_table(m) == alertmanager.routing_table(model)
    (muting,) = [c for c in alertmanager.maintenance_cases(m) if c["time_interval"] == "redis-upgrade"]
    assert muting["muted"] == {"P1": ["postgresql", "redis"], "P2": ["postgresql", "redis"]}


def test_helm_values_carry_the_same_config_with_mounted_secrets(model):
    files = generated(model)
    plain = yaml.safe_load(files["alertmanager/alertmanager.yml"])
    am = yaml.safe_load(files["helm/alertmanager-values.yaml"])["alertmanager"]
    assert am["config"]["templates"] == ["/etc/alertmanager/config/*.tmpl"]
    assert am["templateFiles"] == {"montool.tmpl": files["alertmanager/templates/montool.tmpl"]}
    # the operator mounts Secret <name> at /etc/alertmanager/secrets/<name>/; with the
    # AITBC secrets_dir (/etc/alertmanager/secrets) the paths stay the same
    assert {**am["config"], "templates": plain["templates"]} == plain
    assert am["alertmanagerSpec"]["secrets"] == ["pagerduty", "slack"]


def test_helm_values_move_secret_files_under_the_operator_mount(model):
    org = dataclasses.replace(model.organization, secrets_dir="/run/secrets/am")
    pds = tuple(dataclasses.replace(p, routing_key_file=p.routing_key_file.replace(
        model.organization.secrets_dir, "/run/secrets/am")) for p in model.pagerduty_services)
    m = dataclasses.replace(model, organization=org, pagerduty_services=pds, _index={})
    files = generated(m)
    am = yaml.safe_load(files["helm/alertmanager-values.yaml"])["alertmanager"]
    keys = [c["routing_key_file"] for r in am["config"]["receivers"] for c in r.get("pagerduty_configs", [])]
    assert len(keys) == len(model.pagerduty_services)
    assert all(k.startswith("/etc/alertmanager/secrets/pagerduty/") and k.endswith(".key") for k in keys)
    assert "/run/secrets" not in json.dumps(am["config"])
    assert "/run/secrets/am/pagerduty/redis-p0.key" in files["alertmanager/alertmanager.yml"]
    assert "pagerduty" in am["alertmanagerSpec"]["secrets"]


def render(folder: Path, template: str, data: dict) -> str:
    data_file = folder / "data.json"
    data_file.write_text(json.dumps(data))
    result = tools.run(["amtool", "template", "render", f"--template.glob={folder}/templates/*.tmpl",
                        f"--template.text={template}", f"--template.data={data_file}"])
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_templates_show_severity_service_summary_and_runbook(model, tmp_path):
    stage(model, tmp_path)
    folder = tmp_path / "alertmanager"
    alert = {
        "status": "firing",
        "labels": {"alertname": "RedisDown", "severity": "P0", "service": "redis", "team": "infrastructure"},
        "annotations": {"summary": "The service is down.", "description": "Redis has been down for 1m.",
                        "runbook_url": "https://runbooks.aitbc.io/redis.html#redisdown",
                        "dashboard_url": "https://grafana.aitbc.io/d/aitbc-infrastructure"},
        "startsAt": "2025-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "1",
    }
    data = {"receiver": "slack", "status": "firing", "alerts": [alert],
            "groupLabels": {"alertname": "RedisDown", "service": "redis"}, "commonLabels": alert["labels"],
            "commonAnnotations": alert["annotations"], "externalURL": "http://am.example"}
    title = render(folder, '{{ template "montool.slack.title" . }}', data)
    assert title.strip() == "[FIRING:1] P0 redis: The service is down."
    text = render(folder, '{{ template "montool.slack.text" . }}', data)
    for part in ("P0", "redis", "The service is down.", "Redis has been down for 1m.",
                 "Runbook: https://runbooks.aitbc.io/redis.html#redisdown"):
        assert part in text
    assert render(folder, '{{ template "montool.runbook_url" . }}', data).strip() == alert["annotations"]["runbook_url"]
    bare = {**data, "commonAnnotations": {}}
    assert render(folder, '{{ template "montool.runbook_url" . }}', bare).strip() == "http://am.example"
    resolved = {**data, "status": "resolved", "alerts": [{**alert, "status": "resolved"}]}
    assert render(folder, '{{ template "montool.email.subject" . }}', resolved).strip() == \
        "[RESOLVED] P0 redis: The service is down."
