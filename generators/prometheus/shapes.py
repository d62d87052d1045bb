"""Test files that are renamings of one another: promtool proves one of each shape.

At a thousand services most services are alike: same kind, same thresholds, same
SLOs. Their rule file and test file then differ only in the service's own names
(id, CamelCase name, display name, team, selector values, metric names), and
running promtool on each would prove the same thing a thousand times.

The *shape* of a test file is its text together with its rule file's, with every
occurrence of the service's names replaced by a placeholder naming its role (`id`,
`team`, `metric:orders`, ...; longest name first, only where no letter, digit or `_` precedes it, so `Svc0001ErrorRate` and
the runbook anchor `#svc0001errorrate` are renamed too). Two files of one shape are
the same file up to a consistent renaming: where one has a name, the other has its
own name in the same role, everywhere. promtool's verdict cannot tell them apart,
because PromQL and the test runner treat label values, metric names and alert
names as opaque strings compared for equality, with one exception: regular
expressions. A file is therefore only grouped when none of its regex matchers
mentions a name and no label a regex matcher reads carries a name in the test's
input series; otherwise promtool runs on it alone. Names shorter than three
characters or without a letter are not replaced (they could be part of a number).

When a shape's representative fails, every file of that shape is tested, so each
failure is reported at its own service.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from pathlib import Path

_REGEX_MATCHER = re.compile(r'([A-Za-z_]\w*)\s*[=!]~\s*"((?:[^"\\]|\\.)*)"')
_SERIES_LINE = re.compile(r"^\s*-?\s*series:\s*(.*)$", re.M)
MARK = "\x00"


def service_names(svc) -> dict[str, str]:
    """The strings that name one service in its generated rules and tests -> their role.

    A string with several roles (a `job` label equal to the service id) takes the first.
    """
    roles = [("id", svc.id), ("camel", svc.camel), ("camel-lower", svc.camel.lower()),
             ("name", svc.name), ("team", svc.team)]
    roles += [(f"selector:{k}", v) for k, op, v in svc.selector if op == "="]
    for key, metric in svc.metrics:
        roles.append((f"metric:{key}", metric.name))
        roles += [(f"metric:{key}:{k}", v) for k, op, v in metric.matchers if op == "="]
    names: dict[str, str] = {}
    for role, name in roles:
        if len(name) >= 3 and re.search(r"[A-Za-z]", name):
            names.setdefault(name, role)
    return names


def canonical(text: str, names: dict[str, str]) -> str:
    """`text` with each name replaced by its role's placeholder, longest name first."""
    if not names:
        return text
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=lambda n: (-len(n), n)))
    pattern = re.compile(rf"(?<![A-Za-z0-9_])(?:{alternatives})")
    return pattern.sub(lambda m: f"{MARK}{names[m.group(0)]}{MARK}", text)


def regex_safe(rules: str, tests: str) -> bool:
    """No regex matcher mentions a name, and no label a regex matcher reads carries one."""
    labels = set()
    for label, pattern in _REGEX_MATCHER.findall(rules):
        if MARK in pattern:
            return False
        labels.add(label)
    for series in _SERIES_LINE.findall(tests):
        for label in labels:
            if re.search(rf'(?<![\w]){re.escape(label)}="[^"]*{MARK}', series):
                return False
    return True


def shape_key(rule_text: str, test_text: str, names: dict[str, str]) -> str | None:
    """The shape of a test file and its rule file, or None if it must be tested on its own."""
    rules, tests = canonical(rule_text, names), canonical(test_text, names)
    if not regex_safe(rules, tests):
        return None
    return hashlib.sha256(f"{rules}\x01{tests}".encode()).hexdigest()


def rule_file(test_file: Path) -> Path:
    """The rule file a generated test file tests: `rules/<stem>.rules.yml` beside `tests/`."""
    return test_file.parent.parent / "rules" / test_file.name.replace(".test.yml", ".rules.yml")


def by_shape(test_files: list[Path], names_of) -> dict[Path, list[Path]]:
    """Representative test file -> the files of its shape (itself first).

    `names_of(path)` gives the names of the service a test file belongs to ({} for none).
    """
    shapes: dict[str, list[Path]] = defaultdict(list)
    alone: list[Path] = []
    for f in sorted(test_files):
        rules, names = rule_file(f), names_of(f)
        key = shape_key(rules.read_text(), f.read_text(), names) if names and rules.is_file() else None
        if key is None:
            alone.append(f)
        else:
            shapes[key].append(f)
    groups = {members[0]: members for members in shapes.values()}
    groups.update({f: [f] for f in alone})
    return dict(sorted(groups.items()))
