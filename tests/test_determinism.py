"""Same spec, same bytes: the default spec built under two hash seeds is identical."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def build(repo_root: Path, out: Path, seed: str) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run(
        [sys.executable, "-m", "generators", "build", "spec", "-o", str(out), "--no-validate"],
        cwd=repo_root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, f"build under PYTHONHASHSEED={seed} failed:\n{result.stderr}"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_output_is_identical_under_two_hash_seeds(repo_root, tmp_path):
    first = build(repo_root, tmp_path / "one", "1")
    second = build(repo_root, tmp_path / "two", "2")
    assert first, "the default spec generated no files"
    assert sorted(first) == sorted(second)
    differing = [path for path in first if first[path] != second[path]]
    assert differing == [], f"files differ between hash seeds: {differing}"


def test_generating_in_worker_processes_gives_the_same_files(repo_root, monkeypatch):
    from generators import compiler

    model, _, _ = compiler.load_model(repo_root / "spec")
    serial = compiler.generate(model)
    assert len(model.services) < compiler.PARALLEL_FROM  # the default spec generates in-process
    contexts = []
    real = compiler.mp.get_context
    monkeypatch.setattr(compiler, "PARALLEL_FROM", 1)
    monkeypatch.setattr(compiler.mp, "get_context", lambda method: contexts.append(method) or real(method))
    parallel = compiler.generate(model)
    assert contexts == ["fork"]  # the workers did generate
    assert [(f.path, f.content) for f in parallel] == [(f.path, f.content) for f in serial]
