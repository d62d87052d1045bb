"""The same configuration as kube-prometheus-stack values.

- `alertmanager.config`: the configuration, with `templates` pointing at the
  folder where the chart mounts `alertmanager.templateFiles`
  (/etc/alertmanager/config/).
- Secret files: the Prometheus Operator mounts each Secret listed in
  `alertmanager.alertmanagerSpec.secrets` at /etc/alertmanager/secrets/<name>/.
  A secret file `<dir>/<file>` of the spec becomes key `<file>` of the Secret
  named after `<dir>`; with the default `secrets_dir` (/etc/alertmanager/secrets)
  the paths in both outputs are the same. The Secrets themselves are created
  outside the chart (Terraform writes the PagerDuty keys); the file's header
  lists them.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import PurePosixPath

OPERATOR_SECRETS_DIR = "/etc/alertmanager/secrets"
CHART_TEMPLATES_DIR = "/etc/alertmanager/config"


def _split(path: str) -> tuple[str, str]:
    """(folder name, file name) as PurePosixPath gives them, without building one for
    the plain paths (no empty or `.` part), which is thousands of times faster."""
    parts = path.split("/")
    if "" in parts[1:] or "." in parts:
        p = PurePosixPath(path)
        return p.parent.name, p.name
    return (parts[-2] if len(parts) > 1 else ""), parts[-1]


def secret_name(path: str) -> str:
    """The Kubernetes Secret that holds a secret file: its folder's name, as a DNS label."""
    return _folder_secret(_split(path)[0])


@cache
def _folder_secret(folder: str) -> str:
    folder = folder or "alertmanager"
    return re.sub(r"[^a-z0-9-]+", "-", folder.lower()).strip("-") or "alertmanager"


def mounted(path: str) -> str:
    return f"{OPERATOR_SECRETS_DIR}/{secret_name(path)}/{_split(path)[1]}"


def _rewrite(node, paths: dict[str, str]):
    if isinstance(node, dict):
        return {k: (paths.get(v, v) if k.endswith("_file") and isinstance(v, str) else _rewrite(v, paths))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v, paths) for v in node]
    return node


def secret_files(config: dict) -> list[str]:
    """Every `*_file` path the configuration reads, sorted."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k.endswith("_file") and isinstance(v, str):
                    found.add(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(config)
    return sorted(found)


def values(config: dict, templates: dict[str, str]) -> tuple[dict, list[str]]:
    """(the values, comment lines naming the Secrets to create)."""
    files = secret_files(config)
    paths = {f: mounted(f) for f in files}
    in_cluster = _rewrite(config, paths)
    in_cluster["templates"] = [f"{CHART_TEMPLATES_DIR}/*.tmpl"]
    secrets: dict[str, list[str]] = {}
    for f in files:
        secrets.setdefault(secret_name(f), []).append(_split(f)[1])
    notes = ["Secrets to create in the release namespace (key: file content):"]
    notes += [f"  {name}: {', '.join(sorted(keys))}" for name, keys in sorted(secrets.items())]
    body = {
        "alertmanager": {
            "config": in_cluster,
            "templateFiles": dict(sorted(templates.items())),
            "alertmanagerSpec": {"secrets": sorted(secrets)},
        }
    }
    return body, notes
