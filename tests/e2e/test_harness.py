"""The harness itself, without servers: the exporter's arithmetic and the configuration overrides."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml

from . import amconfig
from .exporter import Exporter

class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def _value(text: str, series: str) -> float:
    m = re.search(rf"^{re.escape(series)} (\S+)$", text, re.M)
    assert m, f"{series} not in\n{text}"
    return float(m.group(1))


def test_request_counters_advance_with_the_knobs(compiled):
    clock = Clock()
    ex = Exporter(compiled.model, clock)
    ex.set("coordinator-api", rps=50, errors=0.1, unavailable=0.02, latency=0.3)
    clock.t += 10
    text = ex.scrape("coordinator-api")
    # 10 s at 50/s: 500 requests, 10% answered 500, 2% answered 503.
    assert _value(text, 'http_requests_total{code="500",method="GET"}') == pytest.approx(50)
    assert _value(text, 'http_requests_total{code="503",method="GET"}') == pytest.approx(10)
    assert _value(text, 'http_requests_total{code="200",method="GET"}') == pytest.approx(440)
    # The spec's buckets for the Coordinator API: 0.3 s lands in le=0.5, not in le=0.2.
    assert _value(text, 'http_request_duration_seconds_bucket{le="0.2"}') == 0
    assert _value(text, 'http_request_duration_seconds_bucket{le="0.5"}') == pytest.approx(500)
    assert _value(text, "http_request_duration_seconds_sum") == pytest.approx(150)
    # Knob changes apply from now on: the past keeps the old rates.
    ex.set("coordinator-api", errors=0.0, unavailable=0.0)
    clock.t += 10
    text = ex.scrape("coordinator-api")
    assert _value(text, 'http_requests_total{code="500",method="GET"}') == pytest.approx(50)
    assert _value(text, 'http_requests_total{code="200",method="GET"}') == pytest.approx(940)


def test_down_and_stalled(compiled):
    clock = Clock()
    ex = Exporter(compiled.model, clock)
    ex.set("coordinator-api", down=True)
    assert ex.scrape("coordinator-api") is None          # Prometheus records up=0
    ex.set("postgresql", down=True)
    assert _value(ex.scrape("postgresql"), "pg_up") == 0  # exporter-style up
    height = _value(ex.scrape("blockchain-node"), "aitbc_block_height")
    clock.t += 30
    assert _value(ex.scrape("blockchain-node"), "aitbc_block_height") > height
    ex.set("blockchain-node", stalled=True)
    height = _value(ex.scrape("blockchain-node"), "aitbc_block_height")
    clock.t += 30
    assert _value(ex.scrape("blockchain-node"), "aitbc_block_height") == height


def test_every_selected_job_is_a_target(compiled):
    ex = Exporter(compiled.model)
    for svc in compiled.model.services:
        for _, op, job in (m for m in svc.selector if m[0] == "job"):
            assert job in ex.jobs


def _config(compiled) -> dict:
    text = next(f.content for f in compiled.files if f.path == "alertmanager/alertmanager.yml")
    return yaml.safe_load(text)


def _routes(route):
    yield route
    for child in route.get("routes", []):
        yield from _routes(child)


def test_timing_override_touches_group_wait_and_interval_only(compiled):
    before = _config(compiled)
    after = amconfig.shorten_group_timings(before)
    for old, new in zip(_routes(before["route"]), _routes(after["route"])):
        assert new.get("repeat_interval") == old.get("repeat_interval")
        if "group_wait" in old:
            assert new["group_wait"] == amconfig.GROUP_WAIT
        assert {k: v for k, v in new.items() if k not in ("group_wait", "group_interval", "routes")} == \
               {k: v for k, v in old.items() if k not in ("group_wait", "group_interval", "routes")}
    assert {k: v for k, v in after.items() if k != "route"} == {k: v for k, v in before.items() if k != "route"}


def test_substitution_moves_every_secret_and_endpoint(compiled, tmp_path):
    model = compiled.model
    cfg = amconfig.substitute(_config(compiled), model, secrets=tmp_path,
                              endpoint=lambda kind, name="": f"http://127.0.0.1:9/{kind}/{name}",
                              smtp="127.0.0.1:9")
    text = yaml.safe_dump(cfg)
    assert model.organization.secrets_dir not in text
    assert "https://" not in text and "svc:8080" not in text
    keys = {p.read_text() for p in (tmp_path / "pagerduty").iterdir()}
    assert len(keys) == len(model.pagerduty_services)     # one distinct key per PagerDuty service


def test_cover_now_covers_the_days_around_now(compiled):
    cfg = _config(compiled)
    wednesday = dt.datetime(2025, 1, 8, 12, 0, tzinfo=dt.timezone.utc)
    out = amconfig.cover_now(cfg, compiled.model, wednesday)
    window = next(ti for ti in out["time_intervals"] if ti["name"] == "weekly-maintenance")
    assert window["time_intervals"] == [{"weekdays": ["tuesday", "wednesday", "thursday"], "location": "UTC"}]
