"""Grafana target: what the dashboards show, read and link to, checked against the spec.

Expected values come from the spec's text (read as plain YAML, not through the
model), the playbook and the SRE workbook's burn-rate arithmetic.
"""
from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import promql_parser
import yaml

from conftest import REPO_ROOT
from generators import grafana
from generators.oncall import load_model
from generators.spec.kinds import KINDS

SPEC = REPO_ROOT / "spec" / "aitbc.yaml"
RAW = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
ORG = "aitbc"
HTTP_KINDS = ("http-api", "web-ui", "key-management-daemon")
GRAFANA_DURATIONS = re.compile(r"\$__(rate_interval|interval|range)")


@cache
def model(spec: Path = SPEC):
    return load_model(spec)


@cache
def generated(spec: Path = SPEC) -> dict[str, str]:
    return {f.path: f.content for f in grafana.generate(model(spec))}


@cache
def dashboards(spec: Path = SPEC) -> dict[str, dict]:
    """uid -> dashboard, from grafana/dashboards/<folder>/<uid>.json."""
    out = {}
    for path, content in generated(spec).items():
        if path.startswith("grafana/dashboards/"):
            data = json.loads(content)
            assert path.endswith(f"/{data['uid']}.json")
            out[data["uid"]] = data
    return out


def panels(d: dict) -> list[dict]:
    return [p for p in d.get("panels", []) if p["type"] != "row"]


def exprs(d: dict) -> list[str]:
    return [t["expr"] for p in panels(d) for t in p["targets"]]


def selectors(expr: str) -> list[tuple[str, dict[str, str]]]:
    """(metric name, {label: value}) of every series selector in a panel query."""
    found = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            found.append((node.name, {m.name: m.value for m in node.matchers.matchers}))

    promql_parser.walk(promql_parser.parse(GRAFANA_DURATIONS.sub("5m", expr)), visit)
    return found


@cache
def recorded() -> set[tuple[str, str, str]]:
    """(record, service, slo) of every recording rule in the Prometheus target's rule files."""
    from generators import prometheus

    found = set()
    for f in prometheus.generate(model()):
        if f.path.startswith("prometheus/rules/"):
            for group in (yaml.safe_load(f.content) or {}).get("groups", []):
                found |= {(r["record"], r.get("labels", {}).get("service", ""), r.get("labels", {}).get("slo", ""))
                          for r in group["rules"] if "record" in r}
    assert found, "the Prometheus target wrote no recording rules"
    return found


def declared_names() -> set[str]:
    out = {"ALERTS"}  # Prometheus's own series of firing alerts
    for svc in model().services:
        for key, metric in svc.metrics:
            out.add(metric.name)
            out |= {metric.name + s for s in ("_bucket", "_sum", "_count")}
    return out


def is_recorded(name: str, labels: dict[str, str]) -> bool:
    """A recording rule's series, selected by the labels the rule gives it."""
    return (name, labels.get("service", ""), labels.get("slo", "")) in recorded()


# --- which dashboards ---------------------------------------------------------------

def test_one_dashboard_per_spec_dashboard_slo_service_and_http_service():
    expected = {f"{ORG}-{d}" for d in RAW["dashboards"]}
    expected |= {f"{ORG}-slo-{s}" for s, v in RAW["services"].items() if v.get("slos")}
    expected |= {f"{ORG}-red-{s}" for s, v in RAW["services"].items() if v.get("kind", "http-api") in HTTP_KINDS}
    assert set(dashboards()) == expected
    assert len(expected) == 4 + 4 + 4  # 4 spec dashboards, 4 services with SLOs, 4 HTTP-like services


def test_uids_are_short_unique_and_titles_and_tags_are_set():
    for uid, d in dashboards().items():
        assert len(uid) <= 40 and re.fullmatch(r"[a-z0-9-]+", uid)
        assert d["title"] and ORG in d["tags"]
    assert dashboards()[f"{ORG}-system-overview"]["title"] == RAW["dashboards"]["system-overview"]["title"]


def test_time_range_and_refresh_come_from_the_spec():
    for did, spec in RAW["dashboards"].items():
        d = dashboards()[f"{ORG}-{did}"]
        assert (d["time"], d["refresh"]) == ({"from": f"now-{spec['time']}", "to": "now"}, spec["refresh"])
    # SLO dashboards show the SLO period: 30 days for the Coordinator API, 1 day for the Marketplace
    assert dashboards()[f"{ORG}-slo-coordinator-api"]["time"]["from"] == "now-30d"
    assert dashboards()[f"{ORG}-slo-marketplace-ui"]["time"]["from"] == "now-1d"


def test_datasource_variable_and_every_panel_reads_it():
    for uid, d in dashboards().items():
        variables = {v["name"]: v for v in d["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
        for p in panels(d):
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, (uid, p["title"])


def test_instance_variables_filter_the_red_and_node_panels():
    red = dashboards()[f"{ORG}-red-coordinator-api"]
    assert [v["name"] for v in red["templating"]["list"]] == ["datasource", "instance"]
    assert 'label_values(up{job="coordinator-api"}, instance)' in red["templating"]["list"][1]["query"]
    for e in exprs(red):
        for name, labels in selectors(e):
            if name != "probe_success":
                assert labels.get("instance") == "$instance", e
    infra = dashboards()[f"{ORG}-infrastructure"]
    assert "node" in [v["name"] for v in infra["templating"]["list"]]
    cpu = [e for e in exprs(infra) if "node_cpu_seconds_total" in e]
    assert cpu and all('instance=~"$node"' in e for e in cpu)


def test_every_panel_has_a_unit_a_description_and_a_unique_id():
    for uid, d in dashboards().items():
        ids = [p["id"] for p in d.get("panels", [])]
        assert len(ids) == len(set(ids)), uid
        for p in panels(d):
            assert p["description"].strip() and p["fieldConfig"]["defaults"]["unit"], (uid, p["title"])
        cells = [(x, y) for p in d.get("panels", []) for g in [p["gridPos"]]
                 for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])]
        assert len(cells) == len(set(cells)) and max(x for x, _ in cells) < 24, f"{uid}: panels overlap"


# --- what the queries read ------------------------------------------------------------

def test_every_query_parses_and_reads_declared_or_recorded_metrics():
    declared = declared_names()
    unknown = {(uid, name) for uid, d in dashboards().items() for e in exprs(d) for name, labels in selectors(e)
               if name not in declared and not is_recorded(name, labels)}
    assert unknown == set()


def test_rate_queries_use_the_rate_interval():
    windows = {m.group(1) for d in dashboards().values() for e in exprs(d)
               for m in re.finditer(r"\brate\([^\[]*\[([^\]]+)\]", e)}
    assert windows == {"$__rate_interval"}


def test_slo_dashboards_read_only_recorded_series():
    for svc in (s for s, v in RAW["services"].items() if v.get("slos")):
        d = dashboards()[f"{ORG}-slo-{svc}"]
        names = [(n, labels) for e in exprs(d) for n, labels in selectors(e)]
        assert names
        for name, labels in names:
            assert is_recorded(name, labels), (name, labels)
            assert labels["service"] == svc and labels["slo"] in RAW["services"][svc]["slos"]


def _burn_panel(uid: str, slo_title: str) -> dict:
    d = dashboards()[uid]
    rows = d["panels"]
    start = next(i for i, p in enumerate(rows) if p["type"] == "row" and p["title"].startswith(slo_title))
    return next(p for p in rows[start:] if p["title"] == "Burn rate per alert window")


def thresholds(panel: dict) -> list:
    return [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def test_burn_rate_thresholds_are_the_alert_tiers_factors():
    # 30-day period: the workbook's 14.4x (1h), 6x (6h), 3x (1d), 1x (3d)
    burn = _burn_panel(f"{ORG}-slo-coordinator-api", "CoordinatorApiAvailability")
    assert thresholds(burn) == [None, 1, 3, 6, 14.4]
    # ticket tiers (1x, 3x) are P2, page tiers (6x, 14.4x) P0: the most severe colour is red
    colors = [s["color"] for s in burn["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert colors[0] == "green" and colors[1] == colors[2] != colors[3] == colors[4] == "red"
    assert burn["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] != "off"  # drawn as lines
    # 1-day period: long windows 1h/30 -> 5m floor, 6h/30 = 12m, 1d/30 = 48m, 3d/30 = 144m;
    # factor = budget consumed x period / long window: 2% x 1440/5, 5% x 1440/12, 10% x 1440/48, 10% x 1440/144
    assert thresholds(_burn_panel(f"{ORG}-slo-marketplace-ui", "MarketplaceUiSuccessRate")) == [None, 1, 3, 5.76, 6]


def test_sli_windows_are_the_alert_windows_and_the_period():
    d = dashboards()[f"{ORG}-slo-coordinator-api"]
    sli = next(p for p in panels(d) if p["title"] == "SLI per window")
    windows = [re.search(r"ratio_rate(\w+)\{", t["expr"]).group(1) for t in sli["targets"] if "ratio_rate" in t["expr"]]
    # workbook windows at 30 days: short 5m, 30m, 2h, 6h; long 1h, 6h, 1d, 3d; then the period
    assert windows == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]


def test_threshold_lines_come_from_the_alerts_and_slos():
    overview = dashboards()[f"{ORG}-system-overview"]
    by_title = {p["title"]: p for p in panels(overview)}
    assert thresholds(by_title["5xx error ratio"]) == [None, 0.05, 0.1]              # error-rate P2 5%, P1 10%
    assert thresholds(by_title["Coordinator API p95 latency"]) == [None, 0.2]        # latency SLO 200ms
    assert thresholds(by_title["Transactions per second"]) == [None, 100]            # the 100 TPS floor
    tps = by_title["Transactions per second"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert tps[0]["color"] != "green" and tps[1]["color"] == "green"                 # below the floor is bad


def test_declared_panels_land_on_their_dashboard():
    for sid, svc in RAW["services"].items():
        for p in svc.get("panels", []):
            d = dashboards()[f"{ORG}-{p['dashboard']}"]
            match = [q for q in panels(d) if q["title"] == p["title"]]
            assert len(match) == 1, p["title"]
            assert match[0]["fieldConfig"]["defaults"]["unit"] == p.get("unit", "short")
            metric = svc.get("metrics", {}).get(p["metric"]) or KINDS[svc["kind"]][p["metric"]]
            assert [n for e in exprs({"panels": match}) for n, _ in selectors(e)] == [metric.split("{")[0]]


# --- links -----------------------------------------------------------------------------

def test_alert_dashboard_urls_point_at_generated_dashboards():
    expected = {"coordinator-api": "red-coordinator-api", "blockchain-node": "slo-blockchain-node",
                "postgresql": "infrastructure", "redis": "infrastructure", "kubernetes": "infrastructure",
                "wallet-daemon": "red-wallet-daemon"}
    for sid, suffix in expected.items():
        assert model().service_dashboard_uid(sid) == f"{ORG}-{suffix}"
        assert f"{ORG}-{suffix}" in dashboards()
    for svc in model().services:
        assert model().service_dashboard_uid(svc.id) in dashboards()


def test_overview_links_to_service_dashboards_and_back():
    overview = dashboards()[f"{ORG}-system-overview"]
    health = {p["title"]: p["links"][0]["url"] for p in panels(overview) if p["type"] == "stat" and p.get("links")}
    assert health["Coordinator API"] == f"/d/{ORG}-red-coordinator-api"
    assert health["Blockchain Nodes"] == f"/d/{ORG}-slo-blockchain-node"
    assert health["PostgreSQL"] == f"/d/{ORG}-infrastructure"
    for uid, d in dashboards().items():
        urls = [link.get("url") for link in d["links"]]
        assert d["links"][0]["type"] == "dashboards" and d["links"][0]["tags"] == [ORG]
        if uid != f"{ORG}-system-overview":
            assert f"/d/{ORG}-system-overview" in urls, uid
    red = [link.get("url") for link in dashboards()[f"{ORG}-red-explorer-ui"]["links"]]
    assert f"/d/{ORG}-slo-explorer-ui" in red


# --- a new service --------------------------------------------------------------------

NEW_SERVICE = """
  status-page:
    name: Status Page
    description: Public status page
    kind: web-ui
    team: platform
    selector: {job: status-page}
"""


def test_a_new_service_appears_and_leaves_other_uids_and_dashboards_alone(tmp_path):
    text = SPEC.read_text(encoding="utf-8")
    anchor = "\n  kubernetes:\n    name:"
    assert text.count(anchor) == 1
    spec = tmp_path / "aitbc.yaml"
    spec.write_text(text.replace(anchor, NEW_SERVICE.rstrip("\n") + anchor), encoding="utf-8")
    before, after = dashboards(), dashboards(spec)
    assert set(after) == set(before) | {f"{ORG}-red-status-page"}
    for uid in before:
        if uid.startswith((f"{ORG}-slo-", f"{ORG}-red-")):
            assert after[uid] == before[uid], uid
    overview = after[f"{ORG}-system-overview"]
    jobs = {labels.get("job") for e in exprs(overview) for _, labels in selectors(e)}
    assert "status-page" in jobs
    assert "status-page" not in {labels.get("job") for e in exprs(before[f"{ORG}-system-overview"])
                                 for _, labels in selectors(e)}
