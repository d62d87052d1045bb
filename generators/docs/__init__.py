"""docs target: the human-facing documents under `output/docs/`.

- `docs/runbooks/<service>.md`: one page per service (and `prometheus.md` for the
  pipeline's own Watchdog), a section per alert with an explicit
  `<a id="<alertname lowercased>"></a>` anchor, so the alerts' `runbook_url`
  (`<runbook_base_url>/<service>.html#<alertname lowercased>`) lands on it once the
  folder is published as HTML (`<service>.md` -> `<service>.html`, e.g. MkDocs with
  `use_directory_urls: false`, or pandoc per file).
- `docs/oncall-handbook.md`: severities, incident levels, escalation (Mermaid),
  rotation table from the rotation's fixed start, contacts, handoff, channels,
  maintenance windows and the response, post-incident, emergency and training processes.
- `docs/alerts.md`: the alert catalogue; `docs/coverage.md`: where each playbook
  section lives in the spec and which generated files carry it.

Templates (`generators/templates/docs/*.md.j2`) run in a Jinja2 SandboxedEnvironment
with StrictUndefined and only receive plain dicts, lists and strings. Alert rules and
routing come from the Prometheus and Alertmanager targets' pure functions, so
the pages say exactly what was generated: the Prometheus target's `alert_inventory`
and the Alertmanager target's `routing_table` and receivers.
"""
from __future__ import annotations

import gc
from functools import lru_cache
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from ..emit import OutputFile
from . import handbook, pages
from .pages import cell

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "docs"


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(SandboxedEnvironment):
    """The sandbox, with `x.key` on a context dict answered without first trying (and
    failing) an attribute lookup: the same result as the sandbox's own getattr, which
    prefers a dict's attributes (`items`, `keys`...) and falls back to its items."""

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """One environment per process, so each template is compiled once."""
    env = _Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=False,          # Markdown, not HTML; values are escaped per context by filters
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = cell
    return env


def render(env: SandboxedEnvironment, template: str, context: dict) -> str:
    text = env.get_template(template).render(**context)
    text = "\n".join([line.rstrip() for line in text.split("\n")])
    while "\n\n\n" in text:         # at most one blank line in a row (str.replace beats a regex here)
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n") + "\n"   # LF; one final newline


def generate(model) -> list[OutputFile]:
    enabled = gc.isenabled()
    gc.disable()               # megabytes of acyclic strings and dicts: collector passes only cost time
    try:
        return _generate(model)
    finally:
        if enabled:
            gc.enable()


def _generate(model) -> list[OutputFile]:
    env = environment()
    ctx = pages.Context(model)
    out = [OutputFile(f"docs/runbooks/{page['id']}.md", render(env, "runbook.md.j2", page))
           for page in ctx.runbook_pages()]
    out.append(OutputFile("docs/oncall-handbook.md", render(env, "oncall-handbook.md.j2", handbook.handbook(ctx))))
    out.append(OutputFile("docs/alerts.md", render(env, "alerts.md.j2", ctx.catalogue())))
    out.append(OutputFile("docs/coverage.md", render(env, "coverage.md.j2", handbook.coverage(ctx))))
    return sorted(out, key=lambda f: f.path)
