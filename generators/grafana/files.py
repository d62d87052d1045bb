"""The files the Grafana target writes.

- `grafana/dashboards/<folder>/<uid>.json`: one dashboard per file;
- `grafana/provisioning/dashboards.yml`: a file provider that reads that folder,
  with one Grafana folder per sub-folder (`foldersFromFilesStructure`);
- `kubernetes/dashboards/<uid>.yaml`: the same JSON in a ConfigMap labelled
  `grafana_dashboard: "1"`, with a `grafana_folder` annotation, for the dashboard
  sidecar of kube-prometheus-stack.
"""
from __future__ import annotations

import re

from ..emit import OutputFile, generated_header, yaml_text
from ..spec.model import Model
from .dashboards import Built, org_tag

DASHBOARDS_DIR = "grafana/dashboards"
PROVISIONING = "grafana/provisioning/dashboards.yml"
CONFIGMAP_DIR = "kubernetes/dashboards"
# Where the provisioning file expects the dashboards folder inside the Grafana container.
GRAFANA_PATH = "/var/lib/grafana/dashboards"
SIDECAR_LABEL = ("grafana_dashboard", "1")
FOLDER_ANNOTATION = "grafana_folder"


def dashboard_path(b: Built) -> str:
    return f"{DASHBOARDS_DIR}/{b.folder}/{b.uid}.json"


def provisioning(model: Model) -> OutputFile:
    name = org_tag(model)
    body = {
        "apiVersion": 1,
        "providers": [{
            "name": name,
            "orgId": 1,
            "type": "file",
            "disableDeletion": False,
            "allowUiUpdates": False,
            "updateIntervalSeconds": 60,
            "options": {"path": f"{GRAFANA_PATH}/{name}", "foldersFromFilesStructure": True},
        }],
    }
    return OutputFile(PROVISIONING, yaml_text(body, header=generated_header(model.source)))


def configmap(model: Model, b: Built, text: str) -> OutputFile:
    labels = {**dict(model.organization.k8s_labels), SIDECAR_LABEL[0]: SIDECAR_LABEL[1]}
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": b.uid,
            "namespace": model.organization.k8s_namespace,
            "labels": dict(sorted(labels.items())),
            "annotations": {FOLDER_ANNOTATION: b.folder},
        },
        "data": {f"{b.uid}.json": text},
    }
    path, header = f"{CONFIGMAP_DIR}/{b.uid}.yaml", generated_header(model.source)
    if _plain_block(text):
        # The bytes yaml_text writes for this value (a `|` block indented by 4), without
        # PyYAML's per-character scan, which took seconds per large dashboard.
        del body["data"]
        lines = "    " + text[:-1].replace("\n", "\n    ") + "\n"
        return OutputFile(path, f"{yaml_text(body, header=header)}data:\n  {b.uid}.json: |\n{lines}")
    return OutputFile(path, yaml_text(body, header=header))


# Text PyYAML writes as a plain `|` literal block: printable, no line break other than
# LF, no empty line, no leading or trailing space, one final newline.
# (Substring tests, and for ASCII text a byte deletion: one regular expression scanned
# the text at a tenth of the speed, seconds on large dashboards.)
_NOT_PLAIN_CHAR = re.compile(r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff]")
_PLAIN_ASCII = b"\n" + bytes(range(0x20, 0x7f))


def _plain_chars(text: str) -> bool:
    if text.isascii():
        return not text.encode("ascii").translate(None, _PLAIN_ASCII)
    return _NOT_PLAIN_CHAR.search(text) is None


def _plain_block(text: str) -> bool:
    return (text.endswith("\n") and not text.startswith((" ", "\n")) and " \n" not in text
            and "\n\n" not in text and _plain_chars(text))


def output_files(model: Model, built: list[Built]) -> list[OutputFile]:
    out = [provisioning(model)]
    for b in sorted(built, key=lambda b: (b.folder, b.uid)):
        text = b.text
        out.append(OutputFile(dashboard_path(b), text))
        out.append(configmap(model, b, text))
    return out
