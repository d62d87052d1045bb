"""Prometheus target: rule files, promtool unit tests, PrometheusRule CRDs and Helm values.

Outputs:
- `prometheus/rules/<service>.rules.yml`: groups `<service>-slo-sli` (SLI recording
  rules, every evaluation interval), `<service>-slo-period` (period SLI, objective,
  budget, burn rates; every minute), `<service>-slo-alerts` (burn-rate and
  average-objective alerts) and `<service>-alerts` (threshold and absent alerts);
  `prometheus/rules/montool-meta.rules.yml`: the Watchdog.
- `prometheus/tests/<service>.test.yml` (and `montool-meta.test.yml`): promtool unit
  tests proving each alerting rule fires just past its threshold and stays quiet
  just inside it, and each recording rule's value (see `testgen.py`, `slotests.py`).
- `kubernetes/prometheusrules/<service>.yaml`: the same groups as PrometheusRule CRDs.
- `helm/prometheus-rules-values.yaml`: kube-prometheus-stack `additionalPrometheusRulesMap`.

`alert_inventory(model)` lists every alert rule for documents, `explain` and `diff`.
"""
from __future__ import annotations

from ..emit import OutputFile, generated_header, yaml_text
from .check import validate
from .inventory import alert_inventory
from .kube import kubernetes_files
from .rules import absent_rule, threshold_rules, watchdog_rule
from .slo import period_interval, period_rules, sli_rules, slo_alerts
from .slotests import slo_tests
from .testgen import absent_tests, test_file, threshold_tests, watchdog_tests

META = "montool-meta"

__all__ = ["generate", "validate", "alert_inventory", "rule_groups", "META"]


def service_alerts(model, svc):
    """(SLO alerts, threshold and absent alerts) of one service."""
    alerts = threshold_rules(model, svc)
    absent = absent_rule(model, svc)
    return slo_alerts(model, svc), alerts + ([absent] if absent else [])


def rule_groups(model) -> dict[str, list[dict]]:
    """Rule file stem (service id, or `montool-meta`) -> its rule groups."""
    every = str(model.organization.evaluation_interval)
    out = {}
    for svc in model.services:
        slo_alert_rules, alerts = service_alerts(model, svc)
        groups = [
            (f"{svc.id}-slo-sli", every, [r for o in svc.slos for r in sli_rules(model, o)]),
            (f"{svc.id}-slo-period", str(period_interval(model)), [r for o in svc.slos for r in period_rules(model, o)]),
            (f"{svc.id}-slo-alerts", every, [r.as_rule() for r in slo_alert_rules]),
            (f"{svc.id}-alerts", every, [r.as_rule() for r in alerts]),
        ]
        groups = [{"name": n, "interval": i, "rules": rules} for n, i, rules in groups if rules]
        if groups:
            out[svc.id] = groups
    out[META] = [{"name": META, "interval": every, "rules": [watchdog_rule(model).as_rule()]}]
    return out


def _tests(model, svc) -> list[dict]:
    slo_alert_rules, alerts = service_alerts(model, svc)
    tests = slo_tests(model, svc, slo_alert_rules)
    for a in svc.alerts:
        tests += threshold_tests(model, svc, a, alerts)
    absent = next((r for r in alerts if r.kind == "absent"), None)
    if absent:
        tests += absent_tests(svc, absent)
    return tests


def generate(model) -> list[OutputFile]:
    header = generated_header(model.source)
    groups = rule_groups(model)
    files = [OutputFile(f"prometheus/rules/{stem}.rules.yml", yaml_text({"groups": g}, header=header))
             for stem, g in groups.items()]
    for svc in model.services:
        if svc.id in groups:
            files.append(OutputFile(f"prometheus/tests/{svc.id}.test.yml",
                                    test_file(model, f"{svc.id}.rules.yml", _tests(model, svc), groups[svc.id])))
    files.append(OutputFile(f"prometheus/tests/{META}.test.yml",
                            test_file(model, f"{META}.rules.yml", watchdog_tests(watchdog_rule(model)), groups[META])))
    files += kubernetes_files(model, groups)
    return sorted(files, key=lambda f: f.path)
