"""Synthetic history for the rule evaluation benchmark, backfilled with promtool.

The raw series an SLO reads are derived from the model's SLO selectors (total,
error, good, sum and count series), so the data always matches what the rules
select: each service has two instances; request counters carry a status label
with good and bad values (for `code=~"5.."`: 200, 404, 500, 503); latency
histograms have the service's buckets plus the threshold and +Inf.

Counters grow linearly (a fixed rate per series), so every window holds the
same number of samples it would in production at the spec's scrape interval.
History is written as OpenMetrics, one file per 2-hour block, and imported with
`promtool tsdb create-blocks-from openmetrics` (which rereads its whole input
once per block, so one file per block keeps the import linear).
"""
from __future__ import annotations

import math
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from generators.spec.values import parse_matchers

BLOCK_MS = 2 * 3600 * 1000
INSTANCES = ("10.0.0.1:8080", "10.0.0.2:8080")
STATUS_CANDIDATES = ("200", "404", "500", "503", "ok", "failed")
REQUESTS_PER_SECOND = 5.0          # per instance
MEAN_LATENCY_S = 0.08
BAD_SHARE = {"500": 0.0004, "503": 0.0002, "404": 0.01, "failed": 0.001}

_SELECTOR = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$")


def split_selector(selector: str) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    m = _SELECTOR.match(selector.strip())
    if not m:
        raise ValueError(f"not a selector: {selector}")
    return m.group(1), parse_matchers(m.group(2) or "")


def _equal_labels(matchers) -> dict[str, str]:
    return {k: v for k, op, v in matchers if op == "="}


def _status_values(matchers, base: dict[str, str]) -> tuple[str, list[tuple[dict, float]]]:
    """The extra label the error selector adds and (labels, share of traffic) per value."""
    extra = [(k, op, v) for k, op, v in matchers if k not in base]
    if not extra:
        return "", [({}, 1.0)]
    label, op, value = extra[0]
    if op == "=":
        values = [value, "ok" if value != "ok" else "good"]
    else:
        values = sorted({c for c in STATUS_CANDIDATES if re.fullmatch(value, c)} | {"200"})
    shares = {v: BAD_SHARE.get(v, 0.001 if v == value else 0.0) for v in values}
    good = 1.0 - sum(shares.values())
    for v in values:
        if shares[v] == 0.0:
            shares[v] = good / sum(1 for x in values if shares[x] == 0.0)
    return label, [({label: v}, shares[v]) for v in values]


def raw_series(model) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(metric name, sorted labels): increase per second} for every series the SLOs select."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def add(name: str, labels: dict[str, str], rate: float) -> None:
        for instance in INSTANCES:
            key = (name, tuple(sorted({**labels, "instance": instance}.items())))
            out[key] = rate

    for svc in model.services:
        for slo in svc.slos:
            if slo.error_series and slo.total_series:      # availability, success_rate
                name, total_m = split_selector(slo.total_series)
                base = _equal_labels(total_m)
                _, err_m = split_selector(slo.error_series)
                _, values = _status_values(err_m, base)
                for labels, share in values:
                    add(name, {**base, **labels}, REQUESTS_PER_SECOND * share)
            elif slo.good_series and slo.total_series:     # latency
                count_name, total_m = split_selector(slo.total_series)
                bucket_name, _ = split_selector(slo.good_series)
                base = _equal_labels(total_m)
                les = sorted({float(b) for b in svc.histogram_buckets} | {float(slo.threshold)})
                for le in les:
                    share = 1 - math.exp(-le / MEAN_LATENCY_S)
                    add(bucket_name, {**base, "le": _le(le)}, REQUESTS_PER_SECOND * share)
                add(bucket_name, {**base, "le": "+Inf"}, REQUESTS_PER_SECOND)
                add(count_name, base, REQUESTS_PER_SECOND)
                add(count_name[: -len("_count")] + "_sum", base, REQUESTS_PER_SECOND * MEAN_LATENCY_S)
            elif slo.sum_series and slo.count_series:      # average
                sum_name, m = split_selector(slo.sum_series)
                count_name, _ = split_selector(slo.count_series)
                base = _equal_labels(m)
                add(count_name, base, 0.5)
                add(sum_name, base, 0.5 * 1.6)
    return out


def _le(x: float) -> str:
    return repr(x) if x != int(x) else f"{int(x)}.0"


def _labels_text(labels) -> str:
    return ",".join(f'{k}="{v}"' for k, v in labels)


def write_chunks(series: dict, start_ms: int, end_ms: int, step_ms: int, folder: Path,
                 value=None) -> list[Path]:
    """OpenMetrics files, one per 2-hour block in [start_ms, end_ms), samples every step_ms.

    `value(name, labels, rate, t_seconds)` gives a sample; by default rate x elapsed time.
    """
    folder.mkdir(parents=True, exist_ok=True)
    by_name: dict[str, list] = {}
    for (name, labels), rate in sorted(series.items()):
        by_name.setdefault(name, []).append((labels, rate))
    files = []
    first = start_ms - start_ms % step_ms + step_ms
    block = first - first % BLOCK_MS
    while block < end_ms:
        stamps = range(max(first, block), min(block + BLOCK_MS, end_ms), step_ms)
        if len(stamps):
            path = folder / f"{block}.om"
            with open(path, "w") as f:
                for name, items in by_name.items():
                    f.write(f"# TYPE {name} unknown\n")
                    for labels, rate in items:
                        head = f"{name}{{{_labels_text(labels)}}} "
                        if value is None:
                            f.writelines(f"{head}{rate * (t - start_ms) / 1000:.6g} {t / 1000:.3f}\n" for t in stamps)
                        else:
                            f.writelines(f"{head}{value(name, labels, rate, t / 1000)} {t / 1000:.3f}\n"
                                         for t in stamps)
                f.write("# EOF\n")
            files.append(path)
        block += BLOCK_MS
    return files


def import_chunks(files: list[Path], data_dir: Path, workers: int = 2) -> None:
    """Backfill each file into data_dir (2 promtool processes at a time)."""
    data_dir.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> None:
        proc = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(path),
                               str(data_dir)], capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"promtool backfill of {path.name} failed: {proc.stderr.strip()[-500:]}")
        path.unlink()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, files))
