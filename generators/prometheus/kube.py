"""The rule groups for Kubernetes: PrometheusRule CRDs and kube-prometheus-stack values.

`kubernetes/prometheusrules/<stem>.yaml` is one `monitoring.coreos.com/v1`
PrometheusRule per rule file, in the spec's namespace, labelled with the spec's
Kubernetes labels (e.g. `release: kube-prometheus-stack`, which the stack's
default ruleSelector matches). `helm/prometheus-rules-values.yaml` holds the same
groups under `additionalPrometheusRulesMap` for installs that prefer values.
"""
from __future__ import annotations

from ..emit import OutputFile, generated_header, yaml_text
from ..spec.model import stable_id


def resource_name(model, stem: str) -> str:
    return stable_id(model.organization.name, stem, limit=63)


def kubernetes_files(model, groups: dict[str, list[dict]]) -> list[OutputFile]:
    org = model.organization
    header = generated_header(model.source)
    out = []
    for stem, g in groups.items():
        metadata = {"name": resource_name(model, stem), "namespace": org.k8s_namespace}
        if org.k8s_labels:
            metadata["labels"] = dict(org.k8s_labels)
        doc = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
               "metadata": metadata, "spec": {"groups": g}}
        out.append(OutputFile(f"kubernetes/prometheusrules/{stem}.yaml", yaml_text(doc, header=header)))
    values = {"additionalPrometheusRulesMap": {
        resource_name(model, stem): ({"additionalLabels": dict(org.k8s_labels)} if org.k8s_labels else {})
        | {"groups": g} for stem, g in sorted(groups.items())}}
    out.append(OutputFile("helm/prometheus-rules-values.yaml", yaml_text(values, header=header)))
    return out
