"""Maintenance windows as Alertmanager `time_intervals` (0.24+ top-level syntax).

A weekly window is one interval: its weekdays, `times` start-end and `location`
(the window's time zone, so a window keeps its local hours across daylight
saving changes).

Alertmanager has no absolute time ranges, but 0.25 intervals take `years`,
`months` and `days_of_month`, which together name calendar days exactly. A
one-off window is therefore written as a union of intervals in the window's
time zone: the partial first day (start time to 24:00), the whole days in
between (one interval per calendar month, as a `days_of_month` range) and the
partial last day (00:00 to the end time). Alertmanager times have minute
resolution: the start is rounded down and the end up, so a window never mutes
less than the spec asks. A one-off window in the past is still written (the
compiler reads no clock); it matches nothing any more.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

DAY = dt.timedelta(days=1)


def time_intervals(model) -> list[dict]:
    """The `time_intervals` section: one named entry per maintenance window that has a time."""
    out = []
    for w in model.maintenance_windows:
        if w.weekly:
            spans = [weekly(w)]
        elif w.start and w.end:
            spans = once(w.start, w.end, w.timezone)
        else:
            continue
        out.append({"name": w.id, "time_intervals": spans})
    return out


def weekly(w) -> dict:
    return {
        "weekdays": list(w.days),
        "times": [{"start_time": w.start_time, "end_time": w.end_time}],
        "location": w.timezone,
    }


def _local(t: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """`t` as naive wall-clock time in `tz` (a naive `t` is already in `tz`)."""
    return t.astimezone(tz).replace(tzinfo=None) if t.tzinfo else t


def _floor_minute(t: dt.datetime) -> dt.datetime:
    return t.replace(second=0, microsecond=0)


def _ceil_minute(t: dt.datetime) -> dt.datetime:
    floor = _floor_minute(t)
    return floor if floor == t else floor + dt.timedelta(minutes=1)


def _hhmm(t: dt.datetime) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _day(d: dt.date, times: list | None = None, last: dt.date | None = None, location: str = "UTC") -> dict:
    days = str(d.day) if last is None or last == d else f"{d.day}:{last.day}"
    out = {"years": [str(d.year)], "months": [str(d.month)], "days_of_month": [days]}
    if times:
        out["times"] = times
    out["location"] = location
    return out


def once(start: dt.datetime, end: dt.datetime, timezone: str) -> list[dict]:
    """Intervals that together cover exactly [start, end) (to the minute) in `timezone`."""
    tz = ZoneInfo(timezone)
    begin, finish = _floor_minute(_local(start, tz)), _ceil_minute(_local(end, tz))
    if finish <= begin:
        return []
    if begin.date() == finish.date():
        return [_day(begin.date(), [{"start_time": _hhmm(begin), "end_time": _hhmm(finish)}], location=timezone)]
    out = []
    first_whole = begin.date()
    if begin.time() != dt.time(0, 0):
        out.append(_day(begin.date(), [{"start_time": _hhmm(begin), "end_time": "24:00"}], location=timezone))
        first_whole += DAY
    last_whole = finish.date() - DAY        # the end day is partial, or excluded at 00:00
    day = first_whole
    while day <= last_whole:
        month_end = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - DAY
        stop = min(month_end, last_whole)
        out.append(_day(day, last=stop, location=timezone))
        day = stop + DAY
    if finish.time() != dt.time(0, 0):
        out.append(_day(finish.date(), [{"start_time": "00:00", "end_time": _hhmm(finish)}], location=timezone))
    return out
