"""`montool oncall`: who holds each tier of a rotation, shift by shift.

The table is computed by the model's rotation code (`Rotation.shifts`, which uses
`Rotation.holder` and `Rotation.member_order`), the same code the PagerDuty
schedules are written from, so what it prints is what PagerDuty will page.

    $ montool oncall --from 2024-12-23 --weeks 3
    AITBC On-Call (aitbc-oncall): 1w turns, handoff Monday 08:00 UTC

    Week  From              To                Primary  Secondary  Tertiary
    1     2024-12-23 08:00  2024-12-30 08:00  Alice    Bob        Carol
    ...

`--from DATE` starts with the shift on call at DATE's handoff time (default:
the shift on call now); `--weeks N` covers N weeks of shifts.
"""
from __future__ import annotations

import datetime as dt
import math
import sys
import zoneinfo
from pathlib import Path

import click

from . import compiler
from .spec.model import Model, Rotation
from .spec.problems import SpecError, report

WEEK = dt.timedelta(weeks=1)


def load_model(spec: Path) -> Model:
    """Load, validate and check a spec into its model, without generating anything."""
    return compiler.load_model(spec)[0]


def rotation_table(model: Model, rotation: Rotation, start: dt.datetime, weeks: int) -> str:
    """The shifts covering `weeks` weeks from the one on call at `start` (naive, rotation's zone)."""
    length = dt.timedelta(milliseconds=rotation.length.ms)
    count = max(1, math.ceil(weeks * WEEK / length))
    unit = "Week" if length == WEEK else "Shift"
    rows = [[unit, "From", "To", *(t.id.replace("-", " ").replace("_", " ").title() for t in rotation.tiers)]]
    for begin, end, holders in rotation.shifts(start, count):
        number = (begin - rotation.first_handoff) // length + 1
        rows.append([str(number), f"{begin:%Y-%m-%d %H:%M}", f"{end:%Y-%m-%d %H:%M}",
                     *(_name(model, holders[t.id]) for t in rotation.tiers)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    title = (f"{rotation.name} ({rotation.id}): {rotation.length} turns, handoff "
             f"{rotation.handoff_day.title()} {rotation.handoff_time} {rotation.timezone}")
    return "\n".join([title, "", *lines]) + "\n"


def _name(model: Model, person: str) -> str:
    found = model.person(person)
    return found.name if found else person


def _start(rotation: Rotation, day: dt.datetime | None) -> dt.datetime:
    if day is None:
        return dt.datetime.now(zoneinfo.ZoneInfo(rotation.timezone)).replace(tzinfo=None, second=0, microsecond=0)
    hh, mm = (int(x) for x in rotation.handoff_time.split(":"))
    return day.replace(hour=hh, minute=mm)


@click.command()
@click.argument("spec", required=False, default="spec", type=click.Path(path_type=Path))
@click.option("--from", "day", metavar="DATE", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Start with the shift on call at this date's handoff time (default: now).")
@click.option("--weeks", type=click.IntRange(min=1, max=520), default=3, show_default=True,
              help="How many weeks of shifts to print.")
@click.option("--rotation", "rotation_id", metavar="ID", help="Only this rotation (default: every rotation).")
def oncall(spec: Path, day: dt.datetime | None, weeks: int, rotation_id: str | None):
    """Print who holds each tier of each rotation, week by week."""
    try:
        model = load_model(spec)
    except SpecError as exc:
        click.echo(report(exc.problems), err=True, nl=False)
        sys.exit(1)
    rotations = list(model.rotations)
    if rotation_id is not None:
        rotations = [r for r in rotations if r.id == rotation_id]
        if not rotations:
            known = ", ".join(r.id for r in model.rotations) or "none defined"
            raise click.BadParameter(f"unknown rotation {rotation_id!r} (known: {known})",
                                     param_hint="'--rotation'")
    if not rotations:
        click.echo(f"error: {spec} defines no rotation", err=True)
        sys.exit(1)
    click.echo("\n".join(rotation_table(model, r, _start(r, day), weeks) for r in rotations), nl=False)
