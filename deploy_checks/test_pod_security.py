"""The salesync namespace: every object in it, Pod Security `restricted` enforced on it, and every pod
template meets that profile (a pod the API server would refuse fails here first)."""
from __future__ import annotations

import copy

import pytest

from deploy_checks.layout import DEV, NAMESPACE, PROD
from deploy_checks.manifests import named, pod_spec, rendered
from deploy_checks.pod_security import restricted_problems

ENVIRONMENTS = [DEV, PROD]
PSA_MODES = ("enforce", "audit", "warn")


def namespace_problems(objects) -> list[str]:
    problems = []
    namespaces = [obj for obj in objects if obj["kind"] == "Namespace"]
    if [obj["metadata"]["name"] for obj in namespaces] != [NAMESPACE]:
        problems.append(f"Namespace objects {[obj['metadata']['name'] for obj in namespaces]}, expected [{NAMESPACE}]")
    for obj in namespaces:
        labels = obj["metadata"].get("labels") or {}
        for mode in PSA_MODES:
            if labels.get(f"pod-security.kubernetes.io/{mode}") != "restricted":
                problems.append(f"Namespace/{obj['metadata']['name']}: pod-security.kubernetes.io/{mode} is "
                                f"{labels.get(f'pod-security.kubernetes.io/{mode}')!r}, expected 'restricted'")
    for obj in objects:
        if obj["kind"] != "Namespace" and obj["metadata"].get("namespace") != NAMESPACE:
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: in namespace "
                            f"{obj['metadata'].get('namespace')!r}, expected {NAMESPACE!r}")
    return problems


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_everything_is_in_the_salesync_namespace_which_enforces_restricted(environment):
    assert namespace_problems(rendered(environment)) == []


def test_namespace_check_catches_a_stray_object_and_a_baseline_namespace():
    objects = copy.deepcopy(list(rendered(PROD)))
    named(objects, "Namespace", NAMESPACE)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "baseline"
    del named(objects, "ConfigMap", "salesync-config")["metadata"]["namespace"]
    assert namespace_problems(objects) == [
        "Namespace/salesync: pod-security.kubernetes.io/enforce is 'baseline', expected 'restricted'",
        "ConfigMap/salesync-config: in namespace None, expected 'salesync'",
    ]


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_every_pod_template_meets_the_restricted_profile(environment):
    assert restricted_problems(rendered(environment)) == []


def test_restricted_check_catches_what_the_api_server_would_refuse():
    objects = copy.deepcopy(list(rendered(PROD)))
    spec = pod_spec(named(objects, "Deployment", "order"))
    del spec["securityContext"]["seccompProfile"]
    container = spec["containers"][0]
    container["securityContext"]["capabilities"] = {"drop": ["NET_RAW"], "add": ["SYS_ADMIN"]}
    spec["volumes"].append({"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}})
    spec["hostNetwork"] = True
    purge = {"kind": "CronJob", "metadata": {"name": "purge"}, "spec": {"jobTemplate": {"spec": {"template": {
        "spec": {"containers": [{"name": "purge", "securityContext": {"allowPrivilegeEscalation": False,
                                                                      "capabilities": {"drop": ["ALL"]}}}]}}}}}}
    assert restricted_problems([named(objects, "Deployment", "order"), purge]) == [
        "Deployment/order: hostNetwork is set",
        "Deployment/order: volume docker is of type ['hostPath'], not allowed",
        "Deployment/order: container order: does not drop ALL capabilities",
        "Deployment/order: container order: adds capabilities ['SYS_ADMIN']",
        "Deployment/order: container order: seccompProfile is None, expected RuntimeDefault or Localhost",
        "CronJob/purge: container purge: runAsNonRoot is not true (on the container or the pod)",
        "CronJob/purge: container purge: seccompProfile is None, expected RuntimeDefault or Localhost",
    ]
