"""The montool command line: commands, defaults, exit codes and problem output."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from generators import cli
from generators.spec.schema import SCHEMA_PATH
from generators.tools import ToolMissing

SPEC = "services:\n  api:\n    team: core\n"


def invoke(*args: str):
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def test_build_defaults_to_spec_and_output(write, fake_pipeline, tmp_path):
    write("spec/a.yaml", SPEC)
    result = invoke("build")
    assert (result.exit_code, result.stderr) == (0, "wrote 1 file to output/\n")
    assert (tmp_path / "output/services/api.yaml").is_file()
    assert invoke("build", "--check").exit_code == 0
    (tmp_path / "output/services/api.yaml").write_text("edited\n")
    result = invoke("build", "--check", "--no-validate")
    assert result.exit_code == 1
    assert result.stdout.startswith("changed: services/api.yaml\n")


def test_build_to_another_folder_with_a_file_spec(write, fake_pipeline, tmp_path):
    write("specs/one.yaml", SPEC)
    assert invoke("build", "specs/one.yaml", "-o", "gen").exit_code == 0
    assert (tmp_path / "gen/services/api.yaml").is_file()


def test_all_problems_sorted_with_a_count(write, fake_pipeline):
    write("spec/b.yaml", "services:\n  web: {team: 1}\n")
    write("spec/a.yaml", "services:\n  api: {colour: red}\n")
    result = invoke("check")
    assert result.exit_code == 1
    assert result.stderr == (
        "spec/a.yaml:2:3: error: services.api: missing required field 'team' (schema/required)\n"
        "spec/a.yaml:2:9: error: services.api.colour: unknown field 'colour' (schema/additionalProperties)\n"
        "spec/b.yaml:2:9: error: services.web.team: 1 is not of type string (schema/type)\n"
        "3 errors, 0 warnings\n"
    )


def test_check_writes_nothing(write, fake_pipeline, tmp_path):
    write("spec/a.yaml", SPEC)
    result = invoke("check")
    assert (result.exit_code, result.stderr) == (0, "spec: no errors (1 file would be generated)\n")
    assert not (tmp_path / "output").exists()


def test_jsonnet_variables_reach_the_spec(write, fake_pipeline):
    write("spec/a.jsonnet", "{ services: { [std.extVar('svc')]: { team: std.extVar('team') } } }\n")
    assert invoke("check", "--ext-str", "svc=api", "--ext-str", "team=core").exit_code == 0
    result = invoke("check")
    assert result.exit_code == 1
    assert "undefined external variable: svc (load/jsonnet)" in result.stderr


@pytest.mark.parametrize("bad", ["novalue", "=x"])
def test_bad_key_value_is_a_usage_error(write, bad):
    result = CliRunner().invoke(cli.main, ["build", "--ext-str", bad])
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.stderr


def test_missing_tool_is_a_message_not_a_traceback(write, fake_pipeline):
    write("spec/a.yaml", SPEC)

    def no_tool(root, model):
        raise ToolMissing("promtool not found: install it")

    sys.modules["generators.targets"].TARGETS[0].validate = no_tool
    result = invoke("build")
    assert (result.exit_code, result.stderr) == (1, "error: promtool not found: install it\n")


def test_missing_spec_is_a_problem(write):
    result = invoke("check", "nowhere")
    assert result.exit_code == 1
    assert result.stderr == "nowhere:1:1: error: no such file or folder (load/missing)\n1 error, 0 warnings\n"


def test_schema_prints_the_json_schema():
    result = invoke("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(SCHEMA_PATH.read_text())


def all_commands():
    return [cli.main] + [cli.main.commands[name] for name in sorted(cli.main.commands)]


@pytest.mark.parametrize("command", all_commands(), ids=lambda c: c.name)
def test_every_command_and_option_has_help(command):
    assert command.help, f"{command.name} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in ("help", "version"):
            assert param.help, f"{command.name} {param.opts[0]} has no help text"
    args = [] if command is cli.main else [command.name]
    result = invoke(*args, "--help")
    assert result.exit_code == 0 and "Usage: " in result.stdout


def test_python_dash_m_generators(repo_root):
    result = subprocess.run(
        [sys.executable, "-m", "generators", "--help"], cwd=repo_root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "Usage: montool" in result.stdout


# --- How problems read -----------------------------------------------------------------


def test_problem_text_and_github_formats():
    from generators.spec.problems import Position, Problem, json_path

    path = json_path(("services", "coordinator-api", "slos", "availability", "objective"))
    problem = Problem.at(
        Position("spec/aitbc.yaml", 14, 16), path, "100.5 is greater than the maximum of 100", "schema/maximum"
    )
    assert problem.format() == (
        "spec/aitbc.yaml:14:16: error: services.coordinator-api.slos.availability.objective: "
        "100.5 is greater than the maximum of 100 (schema/maximum)"
    )
    odd = Problem("a,b:c.yaml", 1, 2, "x[0]", "50% bad\nsecond line", "check/x", "warning")
    assert odd.format("github") == (
        "::warning file=a%2Cb%3Ac.yaml,line=1,col=2,title=check/x::x[0]: 50%25 bad%0Asecond line"
    )
    assert json_path(("services", "api", "slos", 0, "name")) == "services.api.slos[0].name"
    assert json_path(()) == ""


def test_spec_error_sorts_and_deduplicates():
    from generators.spec.problems import Problem, SpecError

    b = Problem("b.yaml", 1, 1, "", "m", "r")
    a2 = Problem("a.yaml", 10, 1, "", "m", "r")
    a1 = Problem("a.yaml", 2, 5, "", "m", "r")
    assert SpecError([b, a2, a1, b]).problems == [a1, a2, b]


# --- External tools --------------------------------------------------------------------


def test_missing_tool_says_how_to_install(monkeypatch, tmp_path):
    from generators import tools

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("MONTOOL_PROMTOOL", raising=False)
    with pytest.raises(ToolMissing, match=r"apt-get install --no-install-recommends prometheus prometheus-alertmanager"):
        tools.tool_path("promtool")
    monkeypatch.setenv("MONTOOL_AMTOOL", str(tmp_path / "nope"))
    with pytest.raises(ToolMissing, match="MONTOOL_AMTOOL"):
        tools.tool_path("amtool")


def test_tool_lookup_env_override_and_debian_alertmanager_name(monkeypatch, tmp_path):
    from generators import tools

    fake = tmp_path / "prometheus-alertmanager"
    fake.write_text("#!/bin/sh\necho 'alertmanager, version 0.25.0 (branch: x)' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("MONTOOL_ALERTMANAGER", raising=False)
    assert tools.tool_path("alertmanager") == str(fake)
    assert tools.tool_version("alertmanager") == "0.25.0"
    monkeypatch.setenv("MONTOOL_PROMTOOL", str(fake))
    assert tools.tool_path("promtool") == str(fake)


def test_run_captures_text_and_reports_timeouts(tmp_path):
    from generators import tools

    done = tools.run([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"])
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
    slow = tools.run([sys.executable, "-c", "import time; time.sleep(5)"], cwd=tmp_path, timeout=0.2)
    assert slow.returncode == 124 and "timed out" in slow.stderr
