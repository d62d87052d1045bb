"""promtool on the generated Prometheus output: checks, generated tests, hand-written tests.

Also reads the generated tests to prove every alerting rule has a firing and a quiet
case, and breaks a threshold to prove the generated tests notice.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from generators import tools
from generators.compiler import compile_spec
from generators.output import stage
from generators.prometheus import validate
from generators.prometheus.check import lint_flags

REPO = Path(__file__).resolve().parent.parent
HANDWRITTEN = REPO / "tests" / "promtool"


@pytest.fixture(scope="module")
def compiled():
    return compile_spec(REPO / "spec")


@pytest.fixture(scope="module")
def tree(compiled, tmp_path_factory):
    return stage(compiled.files, parent=tmp_path_factory.mktemp("prometheus"))


def _copy(tree: Path, tmp_path: Path, keep_tests: tuple[str, ...]) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(tree / "prometheus", root / "prometheus")
    for f in (root / "prometheus" / "tests").iterdir():
        if f.name not in keep_tests:
            f.unlink()
    return root


def test_lint_flags_of_this_promtool():
    assert tools.tool_version("promtool").startswith("2.42")
    assert lint_flags() == ("--lint=all", "--lint-fatal")


def test_promtool_check_and_generated_tests_pass_on_aitbc(tree, compiled):
    assert validate(tree, compiled.model) == []


def _rules(tree: Path, stem: str) -> list[dict]:
    doc = yaml.safe_load((tree / "prometheus/rules" / f"{stem}.rules.yml").read_text())
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def _alert_tests(tree: Path, stem: str) -> list[dict]:
    doc = yaml.safe_load((tree / "prometheus/tests" / f"{stem}.test.yml").read_text())
    assert doc["rule_files"] == [f"../rules/{stem}.rules.yml"]
    return [t for group in doc["tests"] for t in group.get("alert_rule_test", [])]


def test_every_alert_rule_has_a_firing_and_a_quiet_case(tree):
    stems = sorted(p.name.removesuffix(".rules.yml") for p in (tree / "prometheus/rules").glob("*.rules.yml"))
    assert len(stems) == 14  # 8 services with alerts, 5 SLOs, the Watchdog
    count = 0
    for stem in stems:
        tests = _alert_tests(tree, stem)
        for rule in _rules(tree, stem):
            count += 1
            mine = [t for t in tests if t["alertname"] == rule["alert"]]

            def matches(exp):
                return all(exp["exp_labels"].get(k) == v for k, v in rule["labels"].items())

            fires = [t for t in mine if any(matches(e) for e in t["exp_alerts"])]
            quiet = [t for t in mine if not any(matches(e) for e in t["exp_alerts"])]
            where = (rule["alert"], rule["labels"]["severity"], rule["labels"].get("burn"))
            assert fires, f"no firing case for {where}"
            if rule["alert"] != "Watchdog":  # the dead man's switch never stops firing
                assert quiet, f"no quiet case for {where}"
            for t in fires:
                exp = next(e for e in t["exp_alerts"] if matches(e))
                assert set(exp["exp_annotations"]) == {"summary", "description", "runbook_url", "dashboard_url"}
                assert "{{" not in exp["exp_annotations"]["description"]
    # 45 threshold levels (coordinator 9, blockchain 5, three web/daemon services 6 each,
    # postgresql 4, redis 5, kubernetes 4) + 8 absent + 4 ratio SLOs x 2 + 1 average + Watchdog
    assert count == 45 + 8 + 8 + 1 + 1


def test_burn_rate_cases_for_the_availability_slo(tree):
    doc = yaml.safe_load((tree / "prometheus/tests/coordinator-api.slo-availability.test.yml").read_text())
    assert doc["evaluation_interval"] == "1m"
    cases = {t["name"]: t for t in doc["tests"] if t["name"].startswith("CoordinatorApiAvailability ")}
    outage = cases["CoordinatorApiAvailability full outage pages within 51.84s + for 1m (workbook, page-fast)"]
    # 1h of healthy traffic, then every request fails (samples and evaluations every minute).
    # Workbook: 14.4 x 0.1% x 1h = 51.84s, so the 1h ratio passes 1.44% at the 1st failing
    # sample (60s/3600s = 1.67%; the 5m ratio is 20%): pending at 1h1m, plus `for: 1m`:
    # paged at 1h2m. Nothing before.
    by_time = {t["eval_time"]: [e["exp_labels"]["burn"] for e in t["exp_alerts"]] for t in outage["alert_rule_test"]}
    assert by_time == {"1h": [], "1h1m": [], "1h2m": ["page"]}
    page = outage["alert_rule_test"][-1]["exp_alerts"][0]
    # 2 minutes of errors in the last hour: 2/60 = 3.33% = 33.33x the 0.1% budget
    assert "burns at 33.33x the sustainable rate" in page["exp_annotations"]["description"]
    # 4.5x (between the ticket tiers' 3x and the page tiers' 6x) from t=0, at a traffic that
    # passes the 0.1/s guard over 3d after one minute: 0.1 x 3 x 1440 = 432 -> 1000 requests/s.
    # The 3x 1d/2h tier holds from the first evaluation with history (1m), the ticket's
    # `for: 24m` -> firing from 25m; checked a minute later.
    slow = cases["CoordinatorApiAvailability slow burn at 4.5x opens a ticket only"]
    assert slow["input_series"][0]["values"].startswith("0+59730x")  # 1000/s x 60s x (1 - 0.0045)
    assert [(t["eval_time"], [e["exp_labels"]["burn"] for e in t["exp_alerts"]]) for t in slow["alert_rule_test"]] == [
        ("26m", ["ticket"])]
    slow = slow["alert_rule_test"]
    assert "burns at 4.5x" in slow[0]["exp_alerts"][0]["exp_annotations"]["description"]
    assert cases["CoordinatorApiAvailability at 0.99x the budget rate fires nothing"]["alert_rule_test"][0][
        "exp_alerts"] == []
    assert cases["CoordinatorApiAvailability full outage at 0.05 events/s pages no one"]["alert_rule_test"][0][
        "exp_alerts"] == []


def test_a_broken_threshold_fails_the_generated_test(tree, compiled, tmp_path):
    root = _copy(tree, tmp_path, ("coordinator-api.test.yml",))
    rules = root / "prometheus/rules/coordinator-api.rules.yml"
    text = rules.read_text()
    good = '[5m]))) > 0.1\n'
    assert text.count(good) == 1
    rules.write_text(text.replace(good, '[5m]))) > 0.2\n'))
    result = tools.run(["promtool", "test", "rules", "coordinator-api.test.yml"], cwd=root / "prometheus/tests")
    assert result.returncode != 0
    assert "alertname: CoordinatorApiErrorRate" in result.stdout + result.stderr
    problems = validate(root, compiled.model)
    assert problems and all(p.rule == "promtool/test-rules" for p in problems)
    spec_lines = (REPO / "spec/aitbc.yaml").read_text().splitlines()
    flagged = {(p.path, spec_lines[p.line - 1].strip()) for p in problems}
    assert ("CoordinatorApiErrorRate", "error-rate:") in flagged


def test_a_rule_promtool_rejects_is_reported_at_its_service(tree, compiled, tmp_path):
    root = _copy(tree, tmp_path, ())
    rules = root / "prometheus/rules/redis.rules.yml"
    rules.write_text(rules.read_text().replace("expr: absent(redis_up", "expr: absent(redis_up{"))
    problems = validate(root, compiled.model)
    assert [p.rule for p in problems] == ["promtool/check-rules"]
    spec_lines = (REPO / "spec/aitbc.yaml").read_text().splitlines()
    assert spec_lines[problems[0].line - 1].strip() in ("redis:", "RedisMetricsAbsent")
    assert "redis.rules.yml" in problems[0].message


def test_handwritten_promtool_tests_pass(tree, tmp_path):
    tests = sorted(HANDWRITTEN.glob("*.test.yml"))
    assert [t.name for t in tests] == ["diurnal.test.yml"]
    root = _copy(tree, tmp_path, ())
    where = root / "prometheus" / "handwritten"
    where.mkdir()
    for t in tests:
        shutil.copy(t, where / t.name)
    result = tools.run(["promtool", "test", "rules", *[t.name for t in tests]], cwd=where)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(tests)


def test_independent_cases_share_a_group_and_dependent_ones_never_do():
    from generators.prometheus.rules import AlertRule
    from generators.prometheus.testgen import pack

    def rule(name, expr):
        return AlertRule(name, expr, None, (), (), "svc", "threshold", "", None)

    def case(name, alert, series, end):
        return {"name": name, "interval": "1m", "input_series": [{"series": s, "values": "1x9"} for s in series],
                "alert_rule_test": [{"eval_time": end, "alertname": alert, "exp_alerts": []}]}

    rules = [rule("Down", 'max(up{job="a"}) < 1'), rule("Absent", 'absent(up{job="a"})'),
             rule("Errors", 'sum(rate(errors_total{job="a"}[5m])) / sum(rate(requests_total{job="a"}[5m])) > 0.1')]
    cases = [case("down fires", "Down", ['up{job="a"}'], "10m"),
             case("absent fires", "Absent", [], "11m"),          # reads `up`: must not see Down's series
             case("errors fire", "Errors", ['errors_total{job="a"}', 'requests_total{job="a"}'], "6m"),
             case("errors quiet", "Errors", ['requests_total{job="a"}'], "6m"),
             case("queue", "Queue", ['queue{job="a"}'], "3m")]
    groups = pack(cases, rules + [rule("Queue", 'max(queue{job="a"}) > 5')])
    together = [set(g["name"].split("; ")) for g in groups]
    for a, b in (("down fires", "absent fires"), ("errors fire", "errors quiet")):
        assert not any({a, b} <= names for names in together), (a, b)
    assert len(groups) == 2  # 5 cases, two of them forced apart twice
    assert sorted(n for names in together for n in names) == sorted(c["name"] for c in cases)
    assert sum(len(g["alert_rule_test"]) for g in groups) == 5


def test_promtool_work_is_split_evenly_between_processes(tree):
    from generators.prometheus.check import START, _chunks, work

    files = sorted((tree / "prometheus/tests").glob("*.test.yml"))
    cost = {f.name: work(f) for f in files}
    # the 95% latency SLO's outage runs 1h44m at 1m steps over the SLO's 22 rules:
    # 106 steps x 22 rules = 2332 evaluations in that group alone
    assert cost["coordinator-api.slo-latency.test.yml"] > START + 106 * 22
    assert cost["coordinator-api.slo-latency.test.yml"] > 3 * cost["postgresql.test.yml"]
    chunks = _chunks(files, 2)
    loads = [sum(cost[f.name] for f in c) for c in chunks]
    assert sorted(f for c in chunks for f in c) == files
    assert abs(loads[0] - loads[1]) <= max(cost.values())
