"""Reading the generated Prometheus rule files: an alert's rules, labels, `for` and group interval."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from generators.spec.values import Duration

RULES_DIR = "prometheus/rules"
FILE_GLOB = "*.rules.yml"


@dataclass(frozen=True)
class AlertRule:
    file: Path
    group: str
    interval: float            # seconds between evaluations of its group
    alert: str
    expr: str
    for_: float                # seconds
    labels: dict
    annotations: dict


def rule_files(out: Path) -> list[Path]:
    files = sorted((out / RULES_DIR).glob(FILE_GLOB))
    assert files, f"no generated rule files under {out / RULES_DIR}"
    return files


def seconds(text, default: float = 0.0) -> float:
    return Duration.parse(str(text)).seconds if text else default


def alert_rules(out: Path, default_interval: float) -> list[AlertRule]:
    found = []
    for path in rule_files(out):
        doc = yaml.safe_load(path.read_text()) or {}
        for group in doc.get("groups", []):
            interval = seconds(group.get("interval"), default_interval)
            for r in group.get("rules", []):
                if "alert" in r:
                    found.append(AlertRule(path, group["name"], interval, r["alert"], r["expr"],
                                           seconds(r.get("for")), dict(r.get("labels", {})),
                                           dict(r.get("annotations", {}))))
    return found


def find(rules: list[AlertRule], alert: str, **labels) -> AlertRule:
    hits = [r for r in rules if r.alert == alert and all(r.labels.get(k) == v for k, v in labels.items())]
    assert len(hits) == 1, f"expected one generated rule {alert} {labels}, found {len(hits)}"
    return hits[0]


def mutate_expr(src: Path, dst: Path, alert: str, old: str, new: str) -> None:
    """Copy the rule file `src` to `dst` with `old` replaced by `new` in the expression of `alert`."""
    doc = yaml.safe_load(src.read_text())
    hits = 0
    for group in doc["groups"]:
        for r in group["rules"]:
            if r.get("alert") == alert and old in str(r["expr"]):
                r["expr"] = str(r["expr"]).replace(old, new)
                hits += 1
    assert hits, f"{alert}: no expression containing {old!r} in {src}"
    dst.write_text(yaml.safe_dump(doc, sort_keys=False))
