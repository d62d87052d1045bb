"""Typed values of the spec language: durations, percentages, thresholds, metric selectors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from generators.spec.kinds import BOOL, COUNT, RATIO, SECONDS
from generators.spec.values import Duration, Metric, decimal, parse_matchers, percent, threshold

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000


@pytest.mark.parametrize("text, ms", [
    ("500ms", 500),
    ("30s", 30_000),
    ("5m", 5 * MINUTE),
    ("1h30m", 90 * MINUTE),
    ("30d", 30 * DAY),
    ("1w", 7 * DAY),
    ("1d2h3m4s5ms", DAY + 2 * HOUR + 3 * MINUTE + 4_000 + 5),
    ("1y", 365 * DAY),
    ("0s", 0),
])
def test_duration_parses_prometheus_durations(text, ms):
    assert Duration.parse(text).ms == ms


@pytest.mark.parametrize("text", ["1h30m", "30d", "500ms", "5m", "1w", "10d", "1d2h", "1m30s500ms", "0s"])
def test_duration_prints_as_written(text):
    assert str(Duration.parse(text)) == text


def test_duration_prints_whole_weeks_as_weeks_and_the_rest_as_days():
    assert str(Duration(14 * DAY)) == "2w"
    assert str(Duration(10 * DAY)) == "10d"   # not 1w3d
    assert str(Duration(90 * MINUTE)) == "1h30m"
    assert str(Duration(25 * HOUR)) == "1d1h"


@pytest.mark.parametrize("text", ["5 minutes", "1m1h", "5", "", "1.5h", "-5m", "5M", "1h 30m", "1hh", "ms", "5m "])
def test_duration_rejects_what_prometheus_would_not_read(text):
    with pytest.raises(ValueError, match="is not a duration"):
        Duration.parse(text)


@pytest.mark.parametrize("value", [300, None, 1.5])
def test_duration_rejects_non_strings(value):
    with pytest.raises(ValueError, match="is not a duration"):
        Duration.parse(value)


def test_duration_arithmetic_and_order():
    hour = Duration.parse("1h")
    assert hour / 4 == Duration.parse("15m")
    assert hour * 3 == Duration.parse("3h")
    assert Duration.parse("1d") / hour == 24
    assert Duration.parse("90s") > Duration.parse("1m") > Duration.parse("59s")
    assert Duration.of(0.25) == Duration(250)
    assert Duration.parse("2m").seconds == 120


def test_decimal_keeps_the_written_number():
    assert decimal(0.1) == Decimal("0.1")       # not 0.1000000000000000055...
    assert decimal(3) == Decimal(3)
    assert decimal("2.5") == Decimal("2.5")
    for bad in (True, "ten"):
        with pytest.raises(ValueError, match="is not a number"):
            decimal(bad)


@pytest.mark.parametrize("value, fraction", [(99.9, "0.999"), ("99.9%", "0.999"), (95, "0.95"),
                                             ("99.95 %", "0.9995"), (100, "1")])
def test_percent_is_a_fraction(value, fraction):
    assert percent(value) == Decimal(fraction)


def test_percent_rejects_words():
    with pytest.raises(ValueError, match="is not a percentage"):
        percent("ninety")


@pytest.mark.parametrize("value, unit, expected", [
    ("10%", RATIO, "0.1"),
    ("0.5%", RATIO, "0.005"),
    (0.1, RATIO, "0.1"),
    ("500ms", SECONDS, "0.5"),
    ("2s", SECONDS, "2"),
    ("1m", SECONDS, "60"),
    (2, SECONDS, "2"),
    (1000, COUNT, "1000"),
    (1, BOOL, "1"),
])
def test_threshold_is_read_in_the_signal_unit(value, unit, expected):
    assert threshold(value, unit) == Decimal(expected)


@pytest.mark.parametrize("value, unit, message", [
    ("10", RATIO, "a ratio is written as a percentage"),
    ("five seconds", SECONDS, "is not a duration"),
    ("1000", COUNT, "is not a number"),
    ("5%", COUNT, "is not a number"),
])
def test_threshold_rejects_the_wrong_unit(value, unit, message):
    with pytest.raises(ValueError, match=message):
        threshold(value, unit)


SELECTOR = (("job", "=", "api"),)


def test_metric_without_matchers_takes_the_service_selector():
    m = Metric.parse("http_requests_total", SELECTOR)
    assert m == Metric("http_requests_total", (("job", "=", "api"),))
    assert m.selector() == 'http_requests_total{job="api"}'
    assert m.selector('code=~"5.."') == 'http_requests_total{job="api",code=~"5.."}'
    assert m.selector(suffix="_count") == 'http_requests_total_count{job="api"}'


def test_metric_with_matchers_replaces_the_service_selector():
    m = Metric.parse('probe_success{job="blackbox", instance="https://explorer.aitbc.io"}', SELECTOR)
    assert m.matchers == (("job", "=", "blackbox"), ("instance", "=", "https://explorer.aitbc.io"))
    assert m.selector() == 'probe_success{job="blackbox",instance="https://explorer.aitbc.io"}'


def test_metric_without_any_selector_is_bare():
    m = Metric.parse("node_cpu_seconds_total", ())
    assert m.selector() == "node_cpu_seconds_total"
    assert m.selector('mode="idle"') == 'node_cpu_seconds_total{mode="idle"}'
    assert Metric.parse("x{}", SELECTOR).selector() == "x"   # empty braces: no matchers at all


def test_matchers_all_operators_and_escaped_quotes():
    assert parse_matchers(r'a="x", b!="y",c=~"5..", d!~"tmp\"fs"') == (
        ("a", "=", "x"), ("b", "!=", "y"), ("c", "=~", "5.."), ("d", "!~", r'tmp\"fs'))


@pytest.mark.parametrize("text, message", [
    ("http_requests_total{job=}", "cannot parse label matchers 'job='"),
    ("http_requests_total{job='api'}", "cannot parse label matchers"),
    ('{job="api"}', "is not a metric name"),
    ("http_requests_total job", "is not a metric name with optional"),
    ("9lives", "is not a metric name"),
])
def test_metric_rejects_bad_selectors(text, message):
    with pytest.raises(ValueError, match=message.replace("{", r"\{")):
        Metric.parse(text, SELECTOR)
