"""The ``montool`` command line.

Exit codes: 0 clean; 1 spec or validation problems, or drift under ``--check``;
2 usage errors. Problems are printed to stderr, sorted, all of them, then a count.

Other commands join the group with ``@main.command()``; ``spec_options`` gives
them the same SPEC argument and ``--ext-str`` / ``--tla-str`` / ``--format``
options, passed to the command as ``spec``, ``ext_vars``, ``tla_vars``, ``fmt``.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from . import compiler
from .oncall import oncall
from .spec.problems import SpecError, report
from .tools import ToolMissing

DEFAULT_SPEC = "spec"
DEFAULT_OUTPUT = "output"


def _key_values(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", ctx=ctx, param=param)
        result[key] = value
    return result


def spec_options(command):
    """Add the SPEC argument and the Jsonnet and problem-format options to a command."""
    options = [
        click.argument(
            "spec", required=False, default=DEFAULT_SPEC, type=click.Path(path_type=Path),
        ),
        click.option(
            "--ext-str", "ext_vars", metavar="KEY=VALUE", multiple=True, callback=_key_values,
            help="Jsonnet external variable (std.extVar); may be repeated.",
        ),
        click.option(
            "--tla-str", "tla_vars", metavar="KEY=VALUE", multiple=True, callback=_key_values,
            help="Jsonnet top-level argument, for specs that are functions; may be repeated.",
        ),
        click.option(
            "--format", "fmt", type=click.Choice(["text", "github"]), default="text", show_default=True,
            help="How problems are printed: plain text, or GitHub Actions annotations.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def fail_on_errors(fn):
    """Run ``fn``; print SpecError problems or a missing tool's message and exit 1."""
    @functools.wraps(fn)
    def runner(*args, fmt: str = "text", **kwargs):
        try:
            return fn(*args, fmt=fmt, **kwargs)
        except SpecError as exc:
            click.echo(report(exc.problems, fmt), err=True, nl=False)
        except ToolMissing as exc:
            click.echo(f"error: {exc}", err=True)
        sys.exit(1)

    return runner


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="montool", prog_name="montool")
def main():
    """montool: compile one monitoring spec into Prometheus rules, Alertmanager config,
    Grafana dashboards and PagerDuty schedules, validated by the real tools.

    SPEC is a spec file or a folder of *.yaml, *.json and *.jsonnet files
    (default: spec/).
    """


@main.command()
@spec_options
@click.option(
    "-o", "--output", "out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUTPUT,
    show_default=True, help="Folder the generated files go to; replaced atomically as a whole.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the output folder differs from the spec.")
@click.option(
    "--no-validate", "no_validate", is_flag=True,
    help="Skip validating the generated files with promtool, amtool and the JSON Schemas.",
)
def build(spec: Path, ext_vars, tla_vars, fmt: str, out: Path, check: bool, no_validate: bool):
    """Compile SPEC into the output folder (or compare with it, with --check)."""
    code = compiler.build(
        spec, out, check=check, validate=not no_validate, ext_vars=ext_vars, tla_vars=tla_vars, fmt=fmt,
    )
    sys.exit(code)


@main.command()
@spec_options
@fail_on_errors
def check(spec: Path, ext_vars, tla_vars, fmt: str):
    """Check SPEC for problems without writing any output."""
    compiled = compiler.compile_spec(spec, ext_vars=ext_vars, tla_vars=tla_vars)
    if compiled.warnings:
        click.echo(report(compiled.warnings, fmt), err=True, nl=False)
    count = compiler.files_count(len(compiled.files))
    click.echo(f"{compiled.source}: no errors ({count} would be generated)", err=True)


@main.command()
def schema():
    """Print the JSON Schema of the spec language."""
    from .spec.schema import SCHEMA_PATH

    click.echo(SCHEMA_PATH.read_text(encoding="utf-8"), nl=False)


main.add_command(oncall)


@main.command()
@click.argument("name")
@spec_options
@click.option("--json", "as_json", is_flag=True, help="Print the facts as JSON instead of text.")
@fail_on_errors
def explain(name: str, spec: Path, ext_vars, tla_vars, fmt: str, as_json: bool):
    """Explain alert or SLO NAME: spec position, expression, routing, escalation, burn-rate arithmetic."""
    from . import explain as ex
    from .emit import json_text

    compiled = compiler.compile_spec(spec, ext_vars=ext_vars, tla_vars=tla_vars)
    try:
        facts = ex.explain(compiled.model, name)
    except ex.UnknownName as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    click.echo(json_text(facts) if as_json else ex.render_text(facts), nl=False)


@main.command()
@click.argument("base")
@click.argument("head", required=False)
@click.option("--spec", "spec", type=click.Path(path_type=Path), default=DEFAULT_SPEC, show_default=True,
              help="The spec's path in each revision, and HEAD when HEAD is not given.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True,
              help="Markdown for a pull-request comment, or JSON.")
@click.option("--from", "since", metavar="DATE", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Compare who is on call from this date's shift on (default: now).")
@click.option("--weeks", type=click.IntRange(1, 520), default=12, show_default=True,
              help="How many shifts to compare who is on call over.")
@click.option("--ext-str", "ext_vars", metavar="KEY=VALUE", multiple=True, callback=_key_values,
              help="Jsonnet external variable for both sides; may be repeated.")
@click.option("--tla-str", "tla_vars", metavar="KEY=VALUE", multiple=True, callback=_key_values,
              help="Jsonnet top-level argument for both sides; may be repeated.")
def diff(base: str, head: str | None, spec: Path, fmt: str, since, weeks: int, ext_vars, tla_vars):
    """Semantic change report from BASE to HEAD (git revisions or spec paths; HEAD: the working tree)."""
    import datetime as dt
    import tempfile

    from . import diff as df
    from .emit import json_text

    since = since or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
    with tempfile.TemporaryDirectory(prefix="montool-diff-") as work:
        sides = []
        for ref in (base, head):
            try:
                label, path = df.resolve(ref, spec, Path(work)) if ref else (display_spec(spec), spec)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="BASE/HEAD") from None
            try:
                compiled = compiler.compile_spec(path, ext_vars=ext_vars, tla_vars=tla_vars)
            except SpecError as exc:
                click.echo(f"{label}: the spec does not compile:", err=True)
                click.echo(report(exc.problems), err=True, nl=False)
                sys.exit(1)
            sides.append((label, compiled.model))
    result = df.compare(sides[0][1], sides[1][1], since, weeks)
    if fmt == "json":
        click.echo(json_text({"base": sides[0][0], "head": sides[1][0], "changes": result}), nl=False)
    else:
        click.echo(df.render_markdown(result, sides[0][0], sides[1][0]), nl=False)


def display_spec(spec: Path) -> str:
    return f"{spec.as_posix()} (working tree)"
