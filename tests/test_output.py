"""Staging, atomic replacement and drift reports of the output tree, alone and through build()."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from generators import compiler, output
from generators.emit import OutputFile
from generators.spec.problems import Problem


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


FILES = [OutputFile("a.yaml", "a: 1\n"), OutputFile("sub/b.json", "{}\n")]


def test_stage_writes_exact_bytes_in_a_new_folder(tmp_path):
    staged = output.stage([OutputFile("x/crlf.txt", "a\r\nb\n")] + FILES, parent=tmp_path)
    assert staged.parent == tmp_path
    assert (staged / "x/crlf.txt").read_bytes() == b"a\r\nb\n"
    assert tree(staged) == {"a.yaml": "a: 1\n", "sub/b.json": "{}\n", "x/crlf.txt": "a\nb\n"}
    assert output.stage(FILES, parent=tmp_path) != staged


def test_replace_tree_swaps_and_drops_stale_files(tmp_path):
    out = tmp_path / "output"
    (out / "old").mkdir(parents=True)
    (out / "old/stale.yaml").write_text("stale\n")
    output.replace_tree(output.stage(FILES, parent=tmp_path), out)
    assert tree(out) == {"a.yaml": "a: 1\n", "sub/b.json": "{}\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]  # nothing left behind


def test_replace_tree_from_another_folder_and_into_a_new_one(tmp_path):
    out = tmp_path / "deep" / "output"
    output.replace_tree(output.stage(FILES, parent=tmp_path / "elsewhere"), out)
    assert tree(out) == {"a.yaml": "a: 1\n", "sub/b.json": "{}\n"}
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_replace_tree_failure_leaves_out_untouched(tmp_path, monkeypatch):
    out = tmp_path / "output"
    out.mkdir()
    (out / "keep.yaml").write_text("keep\n")
    staged = output.stage(FILES, parent=tmp_path)
    real_rename = os.rename

    def failing_rename(src, dst):
        if Path(src) == staged:
            raise OSError("disk on fire")
        return real_rename(src, dst)

    monkeypatch.setattr(output.os, "rename", failing_rename)
    with pytest.raises(OSError, match="disk on fire"):
        output.replace_tree(staged, out)
    assert tree(out) == {"keep.yaml": "keep\n"}


def test_compare_tree_reports_missing_extra_and_changed(tmp_path):
    out = tmp_path / "output"
    (out / "sub").mkdir(parents=True)
    (out / "a.yaml").write_text("a: 2\n")
    (out / "stale.yaml").write_text("old\n")
    drift = output.compare_tree(FILES, out)
    assert drift == [
        f"changed: a.yaml\n--- {out.as_posix()}/a.yaml\n+++ a.yaml (generated)\n@@ -1 +1 @@\n-a: 2\n+a: 1\n",
        "extra: stale.yaml",
        "missing: sub/b.json",
    ]


def test_compare_tree_identical_and_absent(tmp_path):
    out = tmp_path / "output"
    output.replace_tree(output.stage(FILES, parent=tmp_path), out)
    assert output.compare_tree(FILES, out) == []
    assert output.compare_tree(FILES, tmp_path / "nowhere") == ["missing: a.yaml", "missing: sub/b.json"]


# --- build(): the whole write path with a stand-in model and target ---------------------

SPEC = "services:\n  api:\n    team: core\n  web:\n    team: web\n"


def run_build(spec: Path, out: Path, **kwargs) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = compiler.build(spec, out, stdout=stdout, stderr=stderr, **kwargs)
    return code, stdout.getvalue(), stderr.getvalue()


def test_build_writes_validated_tree(write, fake_pipeline, tmp_path):
    spec = write("spec/a.yaml", SPEC)
    code, _, err = run_build(spec, tmp_path / "output")
    assert (code, err) == (0, "wrote 2 files to output/\n")
    assert sorted(tree(tmp_path / "output")) == ["services/api.yaml", "services/web.yaml"]
    assert len(fake_pipeline.validated) == 1 and not fake_pipeline.validated[0].exists()


def test_build_validation_failure_leaves_out_untouched(write, fake_pipeline, tmp_path):
    out = tmp_path / "output"
    out.mkdir()
    (out / "keep.yaml").write_text("keep\n")
    fake_pipeline.validate_problems = [
        Problem("output/services/api.yaml", 3, 1, "", "promtool says no", "validate/promtool")
    ]
    code, _, err = run_build(write("spec/a.yaml", SPEC), out)
    assert code == 1
    assert err == "output/services/api.yaml:3:1: error: promtool says no (validate/promtool)\n1 error, 0 warnings\n"
    assert tree(out) == {"keep.yaml": "keep\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output", "spec"]  # staging removed


def test_build_spec_error_leaves_out_untouched(write, fake_pipeline, tmp_path):
    out = tmp_path / "output"
    out.mkdir()
    (out / "keep.yaml").write_text("keep\n")
    code, _, err = run_build(write("spec/a.yaml", "services:\n  api:\n    team: 7\n"), out, fmt="github")
    assert code == 1
    assert err == (
        "::error file=spec/a.yaml,line=3,col=5,title=schema/type::services.api.team: 7 is not of type string\n"
        "1 error, 0 warnings\n"
    )
    assert tree(out) == {"keep.yaml": "keep\n"} and fake_pipeline.validated == []


def test_build_check_reports_drift_and_writes_nothing(write, fake_pipeline, tmp_path):
    spec = write("spec/a.yaml", SPEC)
    out = tmp_path / "output"
    assert run_build(spec, out)[0] == 0
    (out / "services/api.yaml").unlink()
    (out / "services/stale.yaml").write_text("old\n")
    code, drift, err = run_build(spec, out, check=True)
    assert code == 1
    assert drift == "missing: services/api.yaml\nextra: services/stale.yaml\n"
    assert "run `make build`" in err
    assert sorted(tree(out)) == ["services/stale.yaml", "services/web.yaml"]
    assert len(fake_pipeline.validated) == 2  # --check validates too


def test_build_check_clean_and_warnings_do_not_fail(write, fake_pipeline, tmp_path):
    spec = write("spec/a.yaml", SPEC)
    out = tmp_path / "output"
    fake_pipeline.check_problems = [Problem("spec/a.yaml", 2, 3, "services.api", "no runbook", "check/x", "warning")]
    assert run_build(spec, out, validate=False)[0] == 0
    code, drift, err = run_build(spec, out, check=True, validate=False)
    assert (code, drift) == (0, "")
    assert err == (
        "spec/a.yaml:2:3: warning: services.api: no runbook (check/x)\n0 errors, 1 warning\n"
        "output/ is up to date (2 files)\n"
    )
    assert fake_pipeline.validated == []


def test_build_into_an_unwritable_place_is_a_message(write, fake_pipeline, tmp_path):
    (tmp_path / "output").write_text("a file, not a folder\n")
    code, _, err = run_build(write("spec/a.yaml", SPEC), tmp_path / "output", validate=False)
    assert code == 1 and err.startswith("error: ") and "is not a folder" in err
    assert (tmp_path / "output").read_text() == "a file, not a folder\n"
