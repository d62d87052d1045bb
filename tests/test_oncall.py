"""`montool oncall`: the playbook's three-week table, and a four-member rotation by hand."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from click.testing import CliRunner

from conftest import REPO_ROOT
from generators.cli import main

SPEC = REPO_ROOT / "spec" / "aitbc.yaml"
HEADER = ["Week", "From", "To", "Primary", "Secondary", "Tertiary"]


def oncall(*args: str):
    return CliRunner().invoke(main, ["oncall", *args], catch_exceptions=False)


def rows(output: str) -> list[list[str]]:
    """The table's rows (header excluded), split into cells."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.split(r"\s{2,}", line) == HEADER)
    return [re.split(r"\s{2,}", line) for line in lines[start + 1:] if line]


def test_the_playbook_three_week_table():
    result = oncall("--from", "2024-12-23", "--weeks", "3", str(SPEC))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("AITBC On-Call (aitbc-oncall): 1w turns, handoff Monday 08:00 UTC\n")
    # Playbook, "Team Structure"; the spec's first handoff is Monday 2024-12-23 08:00 UTC.
    assert rows(result.output) == [
        ["1", "2024-12-23 08:00", "2024-12-30 08:00", "Alice", "Bob", "Carol"],
        ["2", "2024-12-30 08:00", "2025-01-06 08:00", "Bob", "Carol", "Alice"],
        ["3", "2025-01-06 08:00", "2025-01-13 08:00", "Carol", "Alice", "Bob"],
    ]


def test_from_a_midweek_date_starts_with_the_shift_on_call_then():
    result = oncall("--from", "2025-01-08", "--weeks", "2", "--rotation", "aitbc-oncall", str(SPEC))
    assert [r[0] for r in rows(result.output)] == ["3", "4"]
    assert rows(result.output)[1][3:] == ["Alice", "Bob", "Carol"]   # week 4 is week 1 again


def test_without_from_the_first_row_is_on_call_now():
    result = oncall(str(SPEC))
    table = rows(result.output)
    assert len(table) == 3
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    begin, end = (dt.datetime.strptime(cell, "%Y-%m-%d %H:%M") for cell in table[0][1:3])
    assert begin <= now < end
    assert end - begin == dt.timedelta(weeks=1)


def test_a_four_member_rotation(tmp_path: Path):
    text = SPEC.read_text(encoding="utf-8")
    text = text.replace("members: [alice, bob, carol]", "members: [alice, bob, carol, dave]")
    text = text.replace("  cto: {name: CTO, email: cto@aitbc.io}\n",
                        "  cto: {name: CTO, email: cto@aitbc.io}\n  dave: {name: Dave, email: dave@aitbc.io}\n")
    spec = tmp_path / "four.yaml"
    spec.write_text(text, encoding="utf-8")
    result = oncall("--from", "2024-12-23", "--weeks", "5", str(spec))
    assert result.exit_code == 0, result.output
    # Shift rule: in week w, tier offset k is held by members[(w - 1 + k) mod 4].
    assert [r[3:] for r in rows(result.output)] == [
        ["Alice", "Bob", "Carol"],
        ["Bob", "Carol", "Dave"],
        ["Carol", "Dave", "Alice"],
        ["Dave", "Alice", "Bob"],
        ["Alice", "Bob", "Carol"],
    ]


def test_an_unknown_rotation_is_a_usage_error():
    result = CliRunner().invoke(main, ["oncall", "--rotation", "nope", str(SPEC)])
    assert result.exit_code == 2
    assert "unknown rotation 'nope' (known: aitbc-oncall)" in result.output


def test_a_broken_spec_prints_its_problems(tmp_path: Path):
    spec = tmp_path / "broken.yaml"
    spec.write_text(SPEC.read_text(encoding="utf-8").replace("members: [alice, bob, carol]",
                                                             "members: [alice, bob, zoe]"), encoding="utf-8")
    result = CliRunner().invoke(main, ["oncall", str(spec)])
    assert result.exit_code == 1
    assert "unknown person 'zoe'" in result.stderr
