"""One benchmark measurement, run by bench/run.py in a fresh process (so memory is its own).

    .venv/bin/python bench/measure.py SPEC WORKDIR [--validate]

Prints one JSON line:
  generate_s      spec -> files in memory: load, schema, model, checks, every target
  peak_rss_mb     this process's peak resident memory right after generating;
                  workers_peak_rss_mb: the largest forked generate worker's (0 under 100 services)
  stage_s         writing the files to a staging folder
  validate_s      every target's validate() on the staged tree, side by side as montool
                  runs them, and each target's wall time (--validate only); tools_peak_rss_mb is the largest
                  child process (promtool, amtool, ...)
  files, output_bytes, alerting_rules, recording_rules, receivers, dashboards
"""
from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _yaml_load(text: str):
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def counts(files) -> dict:
    alerting = recording = receivers = dashboards = 0
    for f in files:
        if f.path.startswith("prometheus/rules/") and f.path.endswith((".yml", ".yaml")):
            for group in (_yaml_load(f.content) or {}).get("groups") or []:
                for rule in group.get("rules") or []:
                    alerting += "alert" in rule
                    recording += "record" in rule
        elif f.path.startswith("alertmanager/") and f.path.endswith((".yml", ".yaml")):
            doc = _yaml_load(f.content)
            if isinstance(doc, dict) and "route" in doc and "receivers" in doc:
                receivers += len(doc["receivers"] or [])
        elif f.path.startswith("grafana/") and f.path.endswith(".json"):
            doc = json.loads(f.content)
            dashboards += isinstance(doc, dict) and "panels" in doc
    return {"alerting_rules": alerting, "recording_rules": recording, "rules": alerting + recording,
            "receivers": receivers, "dashboards": dashboards}


def main() -> None:
    spec, work = Path(sys.argv[1]), Path(sys.argv[2])
    validate = "--validate" in sys.argv[3:]
    from generators import compiler, output

    t0 = time.perf_counter()
    compiled = compiler.compile_spec(spec)
    t1 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {"generate_s": round(t1 - t0, 3), "peak_rss_mb": round(peak, 1),
              "workers_peak_rss_mb": round(workers, 1)}
    if validate:
        staged = output.stage(compiled.files, parent=work)
        t2 = time.perf_counter()
        by_target: dict[str, float] = {}
        problems = compiler.validate_tree(staged, compiled.model, timings=by_target)
        t3 = time.perf_counter()
        result.update({
            "stage_s": round(t2 - t1, 3),
            "validate_s": round(t3 - t2, 3),
            "validate_by_target_s": by_target,
            "tools_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "problems": len(problems),
            "errors": [str(p) for p in problems if p.is_error][:5],
        })
    result.update({"files": len(compiled.files),
                   "output_bytes": sum(len(f.content.encode()) for f in compiled.files),
                   **counts(compiled.files)})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
