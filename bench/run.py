"""montool benchmark: compile synthetic specs of N services and print the figures.

    make bench        (= .venv/bin/python bench/run.py)
    .venv/bin/python bench/run.py [--sizes 10,100,1000] [--repeat 3] [--json bench/results/latest.json]
                                  [--no-eval] [--eval-services 5] [--eval-history 30d]

For each N it writes a synthetic spec (bench/synth.py: a realistic mix of kinds,
each service with its SLOs, threshold alerts and runbooks) and measures, each
time in a fresh process (bench/measure.py) so nothing is warm or shared:
  generate   spec -> files in memory (load, schema, model, checks, every target;
             no external tool; from 100 services on, the targets in forked workers,
             one per core); the best of --repeat processes
  validate   every target's validate() on the staged tree (promtool, amtool,
             JSON Schemas), as `montool build` runs them; ">600" when it takes
             longer than --validate-timeout
  peak MB    peak resident memory of the generating process (and, apart, of the
             largest generate worker)
  output     bytes and files; rules (alerting + recording), receivers, dashboards
Then the ratio generate time(1000) / time(100) (linear growth is 10), the AITBC
`montool build spec` wall time (the best of --repeat), and the rule evaluation cost
in a real Prometheus (bench/evalcost.py). Figures go to a JSON file.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from synth import write_spec  # noqa: E402

TIMEOUT = 900


def _child(spec: Path, work: Path, validate: bool, timeout: float = TIMEOUT) -> dict | None:
    """The measurement's figures, or None if it ran out of time (the process group is killed)."""
    args = [sys.executable, str(HERE / "measure.py"), str(spec), str(work)] + (["--validate"] if validate else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONHASHSEED": "0"}, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)   # its promtool / amtool children too
        proc.communicate()
        return None
    if proc.returncode != 0:
        raise SystemExit(f"{spec}: measurement failed:\n{err[-4000:]}")
    return json.loads(out.strip().splitlines()[-1])


def measure(n: int, work: Path, repeat: int, validate_timeout: float) -> dict:
    spec = write_spec(n, work / f"n{n}", ROOT / "spec" / "aitbc.yaml")
    row = _child(spec, work, validate=True, timeout=validate_timeout)
    if row is None:   # validation too slow to wait for: the generate figures alone
        row = _child(spec, work, validate=False) or {}
        row["validate_s"] = f">{validate_timeout:g}"
    runs = [row["generate_s"]]
    runs += [_child(spec, work, validate=False)["generate_s"] for _ in range(repeat - 1)]
    row["generate_runs_s"] = runs
    row["generate_s"] = min(runs)
    return {"services": n, **row}


def aitbc_build(work: Path, repeat: int) -> dict:
    """Wall time of `montool build spec -o <tmp>` (the whole pipeline, with validation)."""
    montool = Path(sys.executable).with_name("montool")
    runs = []
    for i in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run([str(montool), "build", "spec", "-o", str(work / f"aitbc-{i}")], cwd=ROOT,
                              capture_output=True, text=True, timeout=TIMEOUT)
        runs.append(round(time.perf_counter() - start, 3))
        if proc.returncode != 0:
            raise SystemExit(f"montool build spec failed:\n{proc.stderr[-4000:]}")
    return {"build_s": min(runs), "build_runs_s": runs}


COLUMNS = [("services", "N"), ("generate_s", "generate s"), ("validate_s", "validate s"),
           ("peak_rss_mb", "peak MB"), ("workers_peak_rss_mb", "worker MB"), ("output_bytes", "output MB"),
           ("files", "files"),
           ("rules", "rules"), ("alerting_rules", "alerts"), ("recording_rules", "records"),
           ("receivers", "receivers"), ("dashboards", "dashboards")]


def table(rows: list[dict]) -> str:
    def cell(row: dict, key: str) -> str:
        value = row.get(key, "")
        return f"{value / 1e6:.2f}" if key == "output_bytes" else str(value)

    lines = ["| " + " | ".join(h for _, h in COLUMNS) + " |", "|" + "---:|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(r, k) for k, _ in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def _tool_versions() -> dict:
    out = {}
    for tool in ("promtool", "amtool", "prometheus"):
        try:
            proc = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=30)
            out[tool] = (proc.stdout or proc.stderr).split("\n")[0]
        except OSError:
            out[tool] = "missing"
    return out


def _commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return proc.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,100,1000")
    ap.add_argument("--repeat", type=int, default=3, help="fresh processes per generate time (the best counts)")
    ap.add_argument("--json", default=str(HERE / "results" / "latest.json"))
    ap.add_argument("--no-eval", action="store_true", help="skip the rule evaluation cost run")
    ap.add_argument("--eval-services", type=int, default=5)
    ap.add_argument("--eval-history", default="30d", help="history backfilled for the evaluation cost (30d: production)")
    ap.add_argument("--validate-timeout", type=float, default=600,
                    help="seconds to wait for one N's validation before reporting it as slower")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    result: dict = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "commit": _commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "tools": _tool_versions(),
    }
    with tempfile.TemporaryDirectory(prefix="montool-bench-") as tmp:
        work = Path(tmp)
        rows = []
        for n in sizes:
            rows.append(measure(n, work, args.repeat, args.validate_timeout))
            print(f"N={n}: generate {rows[-1]['generate_s']} s, validate {rows[-1]['validate_s']} s", file=sys.stderr)
        result["rows"] = rows
        print(table(rows))
        by_n = {r["services"]: r for r in rows}
        if 100 in by_n and 1000 in by_n:
            ratio = by_n[1000]["generate_s"] / by_n[100]["generate_s"]
            result["generate_ratio_1000_100"] = round(ratio, 2)
            print(f"\ngenerate time(1000) / time(100) = {ratio:.2f}  (linear: 10; target < 11)")
        result["aitbc"] = aitbc_build(work, args.repeat)
        print(f"AITBC `montool build spec` (with validation): {result['aitbc']['build_s']} s  (target < 5)")
        for r in rows:
            slow = {k: v for k, v in r.get("validate_by_target_s", {}).items() if v >= 1}
            if slow:
                print(f"N={r['services']} validation by target (s): {slow}")
        if not args.no_eval:
            from evalcost import evaluation_cost, report

            result["evaluation"] = evaluation_cost(args.eval_services, work, args.eval_history, interval="10s",
                                                   log=lambda m: print(m, file=sys.stderr))
            print()
            print(report(result["evaluation"]))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nfigures written to {out}")


if __name__ == "__main__":
    main()
