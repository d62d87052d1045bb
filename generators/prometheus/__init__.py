"""Prometheus target: rule files, promtool unit tests, PrometheusRule CRDs and Helm values.

Outputs:
- `prometheus/rules/<service>.rules.yml`: the group `<service>-alerts` (threshold
  and absent alerts);
- `prometheus/rules/<service>.slo-<slo>.rules.yml`, one file per SLO (as Pyrra
  writes one PrometheusRule per SLO): groups `<service>-slo-<slo>-sli` (SLI
  recording rules, every evaluation interval), `<service>-slo-<slo>-period`
  (period SLI, objective, budget, burn rates; every minute) and
  `<service>-slo-<slo>-alerts` (burn-rate or average-objective alerts);
- `prometheus/rules/montool-meta.rules.yml`: the Watchdog.
- `prometheus/tests/<stem>.test.yml`, one per rule file: promtool unit tests
  proving each alerting rule fires just past its threshold and stays quiet just
  inside it, and each recording rule's value (see `testgen.py`, `slotests.py`).
  One file per SLO keeps each test's work small: promtool evaluates every rule of
  the file at every step of every test, so a test of one SLO no longer pays for
  the service's other SLOs and alerts.
- `kubernetes/prometheusrules/<stem>.yaml`: the same groups as PrometheusRule CRDs.
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
from .testgen import absent_tests, pack, test_file, test_step, threshold_tests, watchdog_tests

META = "montool-meta"

__all__ = ["generate", "validate", "alert_inventory", "rule_groups", "META"]


def alert_rules(model, svc):
    """The threshold and absent alerts of one service."""
    absent = absent_rule(model, svc)
    return threshold_rules(model, svc) + ([absent] if absent else [])


def service_alerts(model, svc):
    """(SLO alerts, threshold and absent alerts) of one service."""
    return [r for slo in svc.slos for r in slo_alerts(model, svc, slo)], alert_rules(model, svc)


def slo_stem(svc, slo) -> str:
    return f"{svc.id}.slo-{slo.id}"


def _group(name: str, interval, rules: list[dict]) -> dict:
    return {"name": name, "interval": str(interval), "rules": rules}


def _alerting(model) -> list[tuple]:
    """Per service: (service, its threshold and absent alerts, [(slo, the SLO's alerts)])."""
    return [(svc, alert_rules(model, svc), [(slo, slo_alerts(model, svc, slo)) for slo in svc.slos])
            for svc in model.services]


def rule_groups(model, alerting: list[tuple] | None = None) -> dict[str, list[dict]]:
    """Rule file stem (`<service>`, `<service>.slo-<slo>`, `montool-meta`) -> its rule groups."""
    every, slow = model.organization.evaluation_interval, period_interval(model)
    out = {}
    for svc, alerts, slos in alerting or _alerting(model):
        for slo, slo_rules in slos:
            name = f"{svc.id}-slo-{slo.id}"
            out[slo_stem(svc, slo)] = [
                _group(f"{name}-sli", every, sli_rules(model, slo)),
                _group(f"{name}-period", slow, period_rules(model, slo)),
                _group(f"{name}-alerts", every, [r.as_rule() for r in slo_rules]),
            ]
        if alerts:
            out[svc.id] = [_group(f"{svc.id}-alerts", every, [r.as_rule() for r in alerts])]
    out[META] = [_group(META, every, [watchdog_rule(model).as_rule()])]
    return out


def _tests(model, svc, alerts) -> list[dict]:
    tests = []
    for a in svc.alerts:
        tests += threshold_tests(model, svc, a, alerts)
    absent = next((r for r in alerts if r.kind == "absent"), None)
    if absent:
        tests += absent_tests(svc, absent)
    return pack(tests, alerts)


def generate(model) -> list[OutputFile]:
    header = generated_header(model.source)
    alerting = _alerting(model)
    groups = rule_groups(model, alerting)
    # serialised once: the CRDs and the Helm values embed the same text
    rule_text = {stem: yaml_text({"groups": g}) for stem, g in groups.items()}
    files = [OutputFile(f"prometheus/rules/{stem}.rules.yml", f"{header}\n{text}") for stem, text in rule_text.items()]
    step = test_step(model)

    def test(stem: str, tests: list[dict]) -> None:
        files.append(OutputFile(f"prometheus/tests/{stem}.test.yml",
                                test_file(model, f"{stem}.rules.yml", tests, groups[stem], step)))

    for svc, alerts, slos in alerting:
        for slo, slo_rules in slos:
            test(slo_stem(svc, slo), slo_tests(model, slo, slo_rules))
        if alerts:
            test(svc.id, _tests(model, svc, alerts))
    test(META, watchdog_tests(watchdog_rule(model)))
    files += kubernetes_files(model, groups, rule_text)
    return sorted(files, key=lambda f: f.path)
