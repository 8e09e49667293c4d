"""k8s/: every overlay renders with kustomize and every object passes kubernetes-validate; the
rendered environments hold what the issue asks of them."""
from __future__ import annotations

import copy

import pytest

from bff.app.routes import ROUTES
from bff.app.urls import PATH_PARAMETER
from deploy_checks import cluster_rules
from deploy_checks.code_facts import code_facts
from deploy_checks.layout import DEV, K8S, KUBERNETES_VERSION, PROD, REPO
from deploy_checks.manifests import RenderError, named, overlays, pod_spec, render, rendered, validation_problems

OVERLAYS = overlays()
ENVIRONMENTS = [DEV, PROD]


def test_the_overlays_are_dev_prod_and_one_per_production_application():
    names = {str(path.relative_to(K8S)) for path in OVERLAYS}
    assert {"overlays/dev", "overlays/prod", "overlays/prod/bff", "overlays/prod/shared"} <= names


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda path: str(path.relative_to(K8S)))
def test_overlay_renders_and_every_object_is_valid(overlay):
    objects = rendered(overlay)
    assert objects
    assert validation_problems(objects) == []


def test_rendering_fails_on_a_broken_overlay(tmp_path):
    (tmp_path / "service.yaml").write_text((REPO / "k8s" / "base" / "store" / "service.yaml").read_text())
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - service.yaml\n  - missing-deployment.yaml\n")
    with pytest.raises(RenderError, match="missing-deployment.yaml"):
        render(tmp_path)


def test_validation_fails_on_broken_objects():
    """kubernetes-validate reports the first error of each object: one defect per object here."""
    misspelt = copy.deepcopy(named(rendered(PROD), "Deployment", "order"))
    container = pod_spec(misspelt)["containers"][0]
    container["livenesProbe"] = container.pop("livenessProbe")
    wrong_type = copy.deepcopy(named(rendered(PROD), "Service", "service-order"))
    wrong_type["spec"]["ports"][0]["port"] = "eighty"
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    problems = validation_problems([misspelt, wrong_type, unknown])
    assert len(problems) == 3, problems
    assert problems[0].startswith("Deployment/order: Additional properties are not allowed ('livenesProbe'")
    assert problems[1] == "Service/service-order: 'eighty' is not of type 'integer' at spec/ports/0/port"
    assert problems[2] == f"Widget/w: no Kubernetes {KUBERNETES_VERSION} schema for example.com/v1 Widget"


def test_the_production_whole_is_the_sum_of_its_applications():
    leaves = [path for path in OVERLAYS if path.parent == PROD]
    parts = sorted((obj["kind"], obj["metadata"]["name"]) for leaf in leaves for obj in rendered(leaf))
    whole = sorted((obj["kind"], obj["metadata"]["name"]) for obj in rendered(PROD))
    assert parts == whole
    assert len(set(whole)) == len(whole), "an object belongs to two Applications"


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_workloads_have_probes_resources_non_root_and_rolling_updates(environment):
    assert cluster_rules.workload_problems(rendered(environment)) == []


def test_workload_rules_catch_a_root_pod_without_limits():
    deployment = copy.deepcopy(named(rendered(PROD), "Deployment", "item"))
    spec = pod_spec(deployment)
    del spec["securityContext"]["runAsNonRoot"]
    del spec["containers"][0]["resources"]["limits"]
    deployment["spec"]["strategy"] = {"type": "Recreate"}
    assert cluster_rules.workload_problems([deployment]) == [
        "Deployment/item: container item is not forced to run as a non-root user",
        "Deployment/item: container item has no cpu and memory limits",
        "Deployment/item: strategy Recreate, expected RollingUpdate",
    ]


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_bff_order_and_sale_autoscale_with_disruption_budgets(environment):
    assert cluster_rules.autoscaling_problems(rendered(environment)) == []


def test_autoscaling_rules_catch_a_missing_budget_and_a_fixed_replica_count():
    objects = [copy.deepcopy(obj) for obj in rendered(PROD)
               if not (obj["kind"] == "PodDisruptionBudget" and obj["metadata"]["name"] == "sale")]
    named(objects, "Deployment", "order")["spec"]["replicas"] = 3
    assert cluster_rules.autoscaling_problems(objects) == [
        "Deployment/sale: 0 PodDisruptionBudgets select its pods, expected 1"]
    assert cluster_rules.workload_problems([named(objects, "Deployment", "order")]) == [
        "Deployment/order: sets replicas, which its HorizontalPodAutoscaler owns"]


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_only_the_bff_is_routed_from_outside(environment):
    assert cluster_rules.ingress_problems(rendered(environment)) == []


def test_ingress_rules_catch_a_route_to_another_service():
    objects = copy.deepcopy(list(rendered(PROD)))
    ingress = named(objects, "Ingress", "bff")
    ingress["spec"]["rules"][0]["http"]["paths"].append(
        {"path": "/internal", "pathType": "Prefix", "backend": {"service": {"name": "service-store",
                                                                            "port": {"number": 80}}}})
    assert cluster_rules.ingress_problems(objects) == [
        "Ingress/bff: routes to ['service-bff', 'service-store'], only service-bff may be reached from outside"]


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_deployments_of_two_or_more_pods_have_a_budget_and_spread_over_nodes(environment):
    assert cluster_rules.availability_problems(rendered(environment)) == []


def test_availability_rules_catch_a_missing_budget_and_pods_free_to_share_a_node():
    objects = copy.deepcopy([obj for obj in rendered(PROD)
                             if not (obj["kind"] == "PodDisruptionBudget" and obj["metadata"]["name"] == "item")])
    spread = pod_spec(named(objects, "Deployment", "store"))["topologySpreadConstraints"]
    spread[:] = [constraint for constraint in spread if constraint["topologyKey"] != "kubernetes.io/hostname"]
    assert cluster_rules.availability_problems(objects) == [
        "Deployment/item: 0 PodDisruptionBudgets select its pods, expected 1",
        "Deployment/store: not spread over nodes (kubernetes.io/hostname, DoNotSchedule)",
    ]


def public_bff_paths() -> set[str]:
    # A concrete path for each route: Ingress rules match paths, not Flask rules.
    paths = {PATH_PARAMETER.sub("1", route.path) for route in ROUTES}
    return paths | {"/docs/"}  # the docs page answers with and without its slash


def operational_paths() -> set[str]:
    facts = code_facts()
    return set(facts.health_routes) | {facts.metrics_route}


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_the_ingress_serves_the_api_but_not_metrics_or_probes(environment):
    assert "/metrics" in operational_paths() and "/sales/" in public_bff_paths()
    assert cluster_rules.ingress_path_problems(rendered(environment), public_bff_paths(), operational_paths()) == []


def test_ingress_path_rules_catch_a_catch_all_and_a_missing_route():
    objects = copy.deepcopy(list(rendered(PROD)))
    paths = named(objects, "Ingress", "bff")["spec"]["rules"][0]["http"]["paths"]
    backend = paths[0]["backend"]
    paths[:] = [path for path in paths if path["path"] != "/sales"]
    paths.append({"path": "/", "pathType": "Prefix", "backend": backend})
    assert cluster_rules.ingress_path_problems(objects, public_bff_paths(), operational_paths()) == [
        "Ingress: /healthz is reachable from outside (through ['/'])",
        "Ingress: /metrics is reachable from outside (through ['/'])",
        "Ingress: /readyz is reachable from outside (through ['/'])",
    ]
    paths.pop()
    named(objects, "Ingress", "bff")["spec"]["defaultBackend"] = backend
    assert "Ingress: /metrics is reachable from outside (through ['/'])" in cluster_rules.ingress_path_problems(
        objects, public_bff_paths(), operational_paths())
    del named(objects, "Ingress", "bff")["spec"]["defaultBackend"]
    assert set(cluster_rules.ingress_path_problems(objects, public_bff_paths(), operational_paths())) == {
        f"Ingress: {path} is not routed to the BFF" for path in public_bff_paths() if path.startswith("/sales")}


def test_production_runs_ecr_images_with_more_replicas():
    assert cluster_rules.production_problems(rendered(PROD), rendered(DEV)) == []


def test_production_rules_catch_a_docker_hub_image_and_a_single_replica():
    objects = copy.deepcopy(list(rendered(PROD)))
    pod_spec(named(objects, "Deployment", "item"))["containers"][0]["image"] = "salesync-item:dev"
    named(objects, "Deployment", "store")["spec"]["replicas"] = 1
    assert cluster_rules.production_problems(objects, rendered(DEV)) == [
        "Deployment/item: image salesync-item:dev is not <account>.dkr.ecr.ap-northeast-2.amazonaws.com/"
        "salesync-<name>:<tag>",
        "Deployment/store: 1 replica(s) in production, expected 2 or more",
        "Deployment/store: no more replicas in production (1) than in development (1)",
    ]


def test_validation_fails_on_broken_custom_resources():
    """PodMonitor and PrometheusRule have no built-in schema: they are checked against deploy_checks/schemas."""
    monitoring = rendered(K8S / "overlays" / "prod" / "monitoring")
    monitor = copy.deepcopy(named(monitoring, "PodMonitor", "salesync"))
    monitor["spec"]["podMetricsEndpoints"][0]["scrape_interval"] = "30s"
    rule = copy.deepcopy(named(monitoring, "PrometheusRule", "salesync"))
    rule["spec"]["groups"][0]["rules"][0]["for"] = "five minutes"
    assert validation_problems([monitor, rule]) == [
        "PodMonitor/salesync: Additional properties are not allowed ('scrape_interval' was unexpected) at "
        "spec/podMetricsEndpoints/0",
        "PrometheusRule/salesync: 'five minutes' does not match '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?"
        "(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$' at spec/groups/0/rules/0/for",
    ]
