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
    assert (result.exit_code, result.stderr) == (0, "wrote 1 files to output/\n")
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
    assert (result.exit_code, result.stderr) == (0, "spec: no errors (1 files would be generated)\n")
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
