"""The rule groups for Kubernetes: PrometheusRule CRDs and kube-prometheus-stack values.

`kubernetes/prometheusrules/<stem>.yaml` is one `monitoring.coreos.com/v1`
PrometheusRule per rule file, in the spec's namespace, labelled with the spec's
Kubernetes labels (e.g. `release: kube-prometheus-stack`, which the stack's
default ruleSelector matches). `helm/prometheus-rules-values.yaml` holds the same
groups under `additionalPrometheusRulesMap` for installs that prefer values.
"""
from __future__ import annotations

import re

from ..emit import OutputFile, generated_header, yaml_text
from ..spec.model import stable_id


def resource_name(model, stem: str) -> str:
    return stable_id(model.organization.name, stem, limit=63)


_LINE_START = re.compile(r"^(?=.)", re.M)


def _under(text: str, depth: int) -> str:
    """Block YAML `text` (ending in a newline) nested `depth` levels deeper; the blank
    lines of literal blocks stay empty (montool's YAML has no line of spaces only)."""
    pad = "  " * depth
    if "\n\n" in text:
        return _LINE_START.sub(pad, text)
    return pad + text[:-1].replace("\n", "\n" + pad) + "\n"


def _key(name: str) -> str:
    """`name` as a YAML mapping key, quoted if it has to be."""
    return yaml_text([name])[2:-1]


def kubernetes_files(model, groups: dict[str, list[dict]], rule_text: dict[str, str]) -> list[OutputFile]:
    """`rule_text[stem]` is the YAML of `{"groups": groups[stem]}`, written once and nested here."""
    org = model.organization
    header = generated_header(model.source)
    labels = {"additionalLabels": dict(org.k8s_labels)} if org.k8s_labels else {}
    out = []
    for stem in groups:
        metadata = {"name": resource_name(model, stem), "namespace": org.k8s_namespace}
        if org.k8s_labels:
            metadata["labels"] = dict(org.k8s_labels)
        doc = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": metadata}
        out.append(OutputFile(f"kubernetes/prometheusrules/{stem}.yaml",
                              yaml_text(doc, header=header) + "spec:\n" + _under(rule_text[stem], 1)))
    values = [yaml_text({"additionalPrometheusRulesMap": None}, header=header).replace(" null\n", "\n")]
    for stem in sorted(groups):
        values.append(f"  {_key(resource_name(model, stem))}:\n")
        if labels:
            values.append(_under(yaml_text(labels), 2))
        values.append(_under(rule_text[stem], 2))
    out.append(OutputFile("helm/prometheus-rules-values.yaml", "".join(values)))
    return out
