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

from ..emit import OutputFile, generated_header, json_text, yaml_text
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
        lines = "".join(f"    {line}\n" for line in text[:-1].split("\n"))
        return OutputFile(path, f"{yaml_text(body, header=header)}data:\n  {b.uid}.json: |\n{lines}")
    return OutputFile(path, yaml_text(body, header=header))


# Text PyYAML writes as a plain `|` literal block: printable, no line break other than
# LF, no empty line, no leading or trailing space, one final newline.
_NOT_PLAIN_BLOCK = re.compile(r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff]| \n|\n\n")


def _plain_block(text: str) -> bool:
    return text.endswith("\n") and not text.startswith((" ", "\n")) and _NOT_PLAIN_BLOCK.search(text) is None


def output_files(model: Model, built: list[Built]) -> list[OutputFile]:
    out = [provisioning(model)]
    for b in sorted(built, key=lambda b: (b.folder, b.uid)):
        text = json_text(b.data)
        out.append(OutputFile(dashboard_path(b), text))
        out.append(configmap(model, b, text))
    return out
