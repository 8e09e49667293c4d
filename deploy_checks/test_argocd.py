"""Argo CD: one Application per production directory, automated sync with prune and self-heal."""
from __future__ import annotations

import copy
import re

import yaml

from deploy_checks.layout import ARGOCD, NAMESPACE, PROD, REPO
from deploy_checks.manifests import overlays, rendered

IN_CLUSTER = "https://kubernetes.default.svc"
CLUSTER_WIDE = {"Namespace"}


def load_argocd() -> list[dict]:
    return [doc for path in sorted(ARGOCD.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def applications(objects) -> list[dict]:
    """The Applications Argo CD runs: plain ones, and those an ApplicationSet's list generator yields."""
    apps = [obj for obj in objects if obj["kind"] == "Application"]
    for appset in (obj for obj in objects if obj["kind"] == "ApplicationSet"):
        for generator in appset["spec"]["generators"]:
            for element in generator["list"]["elements"]:
                apps.append({"kind": "Application", **_fill(appset["spec"]["template"], element)})
    return apps


def _fill(template, element):
    """Go-template `{{.key}}` placeholders of an ApplicationSet template, from one list element."""
    if isinstance(template, dict):
        return {key: _fill(value, element) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, element) for value in template]
    if isinstance(template, str):
        return re.sub(r"\{\{\s*\.(\w+)\s*\}\}", lambda match: str(element[match.group(1)]), template)
    return template


def argocd_problems(objects) -> list[str]:
    problems = []
    projects = {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "AppProject"}
    apps = applications(objects)
    expected = {str(path.relative_to(REPO)) for path in overlays() if path.parent == PROD}
    paths = [app["spec"]["source"]["path"] for app in apps]
    if sorted(paths) != sorted(expected):
        problems.append(f"Applications point at {sorted(paths)}, expected one per directory {sorted(expected)}")
    for app in apps:
        name = app["metadata"]["name"]
        spec = app["spec"]
        source, destination = spec["source"], spec["destination"]
        if not (REPO / source["path"] / "kustomization.yaml").exists():
            problems.append(f"{name}: source path {source['path']} is not a kustomization")
        if source.get("targetRevision") != "main":
            problems.append(f"{name}: follows {source.get('targetRevision')}, not main (where CI commits)")
        if destination.get("server") != IN_CLUSTER or destination.get("namespace") != NAMESPACE:
            problems.append(f"{name}: deploys to {destination}, expected {IN_CLUSTER} namespace {NAMESPACE} "
                            f"(the service URLs say .{NAMESPACE}.svc.cluster.local)")
        automated = (spec.get("syncPolicy") or {}).get("automated") or {}
        if automated.get("prune") is not True or automated.get("selfHeal") is not True:
            problems.append(f"{name}: sync is not automated with prune and selfHeal")
        project = projects.get(spec.get("project"))
        if project is None:
            problems.append(f"{name}: project {spec.get('project')} is not defined here")
        else:
            if source["repoURL"] not in project["spec"]["sourceRepos"]:
                problems.append(f"{name}: project {spec['project']} does not allow {source['repoURL']}")
            if {"server": destination.get("server"), "namespace": destination.get("namespace")} not in \
                    project["spec"]["destinations"]:
                problems.append(f"{name}: project {spec['project']} does not allow {destination}")
    names = [app["metadata"]["name"] for app in apps]
    if len(set(names)) != len(names):
        problems.append(f"Application names repeat: {names}")
    return problems


def whitelist_problems(project: dict, objects) -> list[str]:
    """The project allows exactly the namespace and the kinds production deploys: no wildcard, no spare kind."""
    problems = []
    spec = project["spec"]
    if [destination.get("namespace") for destination in spec["destinations"]] != [NAMESPACE]:
        problems.append(f"AppProject/{project['metadata']['name']}: destinations {spec['destinations']}, "
                        f"expected only namespace {NAMESPACE}")
    used = {(obj["apiVersion"].rpartition("/")[0], obj["kind"]) for obj in objects}
    for field, wanted in (("clusterResourceWhitelist", {kind for kind in used if kind[1] in CLUSTER_WIDE}),
                          ("namespaceResourceWhitelist", {kind for kind in used if kind[1] not in CLUSTER_WIDE})):
        listed = {(entry["group"], entry["kind"]) for entry in spec.get(field) or []}
        for group, kind in sorted(listed - wanted):
            problems.append(f"{field} allows {group or 'core'}/{kind}, which production does not deploy")
        for group, kind in sorted(wanted - listed):
            problems.append(f"{field} does not allow {group or 'core'}/{kind}, which production deploys")
    return problems


def project() -> dict:
    return next(obj for obj in load_argocd() if obj["kind"] == "AppProject")


def test_the_project_allows_only_the_salesync_namespace_and_the_kinds_in_use():
    assert whitelist_problems(project(), rendered(PROD)) == []


def test_whitelist_check_catches_a_wildcard_a_missing_kind_and_another_namespace():
    broken = copy.deepcopy(project())
    broken["spec"]["namespaceResourceWhitelist"] = [
        entry for entry in broken["spec"]["namespaceResourceWhitelist"] if entry["kind"] != "PodMonitor"]
    broken["spec"]["namespaceResourceWhitelist"].append({"group": "*", "kind": "*"})
    broken["spec"]["destinations"].append({"server": IN_CLUSTER, "namespace": "default"})
    assert whitelist_problems(broken, rendered(PROD)) == [
        f"AppProject/salesync: destinations {broken['spec']['destinations']}, expected only namespace salesync",
        "namespaceResourceWhitelist allows */*, which production does not deploy",
        "namespaceResourceWhitelist does not allow monitoring.coreos.com/PodMonitor, which production deploys",
    ]


def test_argocd_runs_one_self_healing_application_per_production_directory():
    objects = load_argocd()
    assert argocd_problems(objects) == []
    assert {app["metadata"]["name"] for app in applications(objects)} >= {
        "salesync-store", "salesync-item", "salesync-order", "salesync-sale", "salesync-dash",
        "salesync-consulting", "salesync-bff"}


def test_argocd_check_catches_a_manual_sync_a_wrong_path_and_another_namespace():
    objects = copy.deepcopy(load_argocd())
    appset = next(obj for obj in objects if obj["kind"] == "ApplicationSet")
    appset["spec"]["template"]["spec"]["syncPolicy"]["automated"]["selfHeal"] = False
    appset["spec"]["generators"][0]["list"]["elements"].append({"name": "payments"})
    appset["spec"]["template"]["spec"]["destination"]["namespace"] = "default"
    problems = argocd_problems(objects)
    assert problems[0].startswith("Applications point at [") and "k8s/overlays/prod/payments" in problems[0]
    assert "salesync-payments: source path k8s/overlays/prod/payments is not a kustomization" in problems
    assert "salesync-store: sync is not automated with prune and selfHeal" in problems
    assert any(problem.startswith("salesync-bff: deploys to {") for problem in problems)
