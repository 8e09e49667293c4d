"""What every rendered environment must hold: probes, resources, non-root pods, rolling updates,
autoscaling, disruption budgets and spread over nodes where there are two or more pods, the Ingress
to the BFF alone. Each function returns a list of problems. (The NetworkPolicies: network_rules.py.)"""
from __future__ import annotations

import re

from salesync_common import roster

from .layout import AUTOSCALED, ECR_REGISTRY_PATTERN, PUBLIC
from .manifests import pod_spec

# The dashboard consumer reads every partition with no consumer group: never two at once.
SINGLE_READER = {"dash-consumer"}
MIN_PRODUCTION_REPLICAS = 2


def workload_problems(objects) -> list[str]:
    problems = []
    for obj in objects:
        if obj["kind"] not in ("Deployment", "Job", "StatefulSet"):
            continue
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        spec = pod_spec(obj)
        pod_security = spec.get("securityContext") or {}
        for container in spec["containers"]:
            security = container.get("securityContext") or {}
            run_as_non_root = security.get("runAsNonRoot", pod_security.get("runAsNonRoot"))
            user = security.get("runAsUser", pod_security.get("runAsUser"))
            if run_as_non_root is not True or not user:
                problems.append(f"{where}: container {container['name']} is not forced to run as a non-root user")
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: container {container['name']} may escalate privileges")
            resources = container.get("resources") or {}
            for part in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources.get(part) or {}):
                    problems.append(f"{where}: container {container['name']} has no cpu and memory {part}")
        if obj["kind"] == "Deployment":
            problems += _deployment_problems(obj, where)
    return problems


def _deployment_problems(obj, where) -> list[str]:
    problems = []
    name = obj["metadata"]["name"]
    strategy = obj["spec"].get("strategy") or {}
    if name in SINGLE_READER:
        if strategy.get("type") != "Recreate" or obj["spec"].get("replicas", 1) != 1:
            problems.append(f"{where}: must be one replica replaced by Recreate (a single Kafka reader)")
    elif strategy.get("type") != "RollingUpdate":
        problems.append(f"{where}: strategy {strategy.get('type')}, expected RollingUpdate")
    elif (strategy.get("rollingUpdate") or {}).get("maxUnavailable") not in (0, "0", "0%"):
        problems.append(f"{where}: a rolling update may take serving pods away first (maxUnavailable)")
    if name in AUTOSCALED and "replicas" in obj["spec"]:
        problems.append(f"{where}: sets replicas, which its HorizontalPodAutoscaler owns")
    return problems


def autoscaling_problems(objects) -> list[str]:
    problems = []
    deployments = {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "Deployment"}
    hpas = {obj["spec"]["scaleTargetRef"]["name"]: obj for obj in objects
            if obj["kind"] == "HorizontalPodAutoscaler" and obj["spec"]["scaleTargetRef"]["kind"] == "Deployment"}
    pdbs = [obj for obj in objects if obj["kind"] == "PodDisruptionBudget"]
    if set(hpas) != AUTOSCALED:
        problems.append(f"HorizontalPodAutoscalers target {sorted(hpas)}, expected {sorted(AUTOSCALED)}")
    for name in AUTOSCALED:
        deployment = deployments.get(name)
        if deployment is None:
            continue
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [pdb for pdb in pdbs
                    if _selects(pdb["spec"].get("selector") or {}, labels)]
        if len(covering) != 1:
            problems.append(f"Deployment/{name}: {len(covering)} PodDisruptionBudgets select its pods, expected 1")
        hpa = hpas.get(name)
        if hpa is not None and not hpa["spec"].get("minReplicas", 1) <= hpa["spec"]["maxReplicas"]:
            problems.append(f"HorizontalPodAutoscaler/{name}: minReplicas above maxReplicas")
    return problems


def availability_problems(objects) -> list[str]:
    """Every Deployment that may run two or more pods has one PodDisruptionBudget that keeps one up, and
    spreads its pods over nodes (kubernetes.io/hostname, DoNotSchedule: never two on one node while
    another node has room) and over zones."""
    problems = []
    pdbs = [obj for obj in objects if obj["kind"] == "PodDisruptionBudget"]
    most = _replicas(objects, most=True)
    for obj in objects:
        if obj["kind"] != "Deployment" or most.get(obj["metadata"]["name"], 1) < MIN_PRODUCTION_REPLICAS:
            continue
        where = f"Deployment/{obj['metadata']['name']}"
        labels = obj["spec"]["template"]["metadata"]["labels"]
        covering = [pdb for pdb in pdbs if _selects(pdb["spec"].get("selector") or {}, labels)]
        if len(covering) != 1:
            problems.append(f"{where}: {len(covering)} PodDisruptionBudgets select its pods, expected 1")
        elif covering[0]["spec"].get("maxUnavailable") not in (1, "1") and "minAvailable" not in covering[0]["spec"]:
            problems.append(f"{where}: its PodDisruptionBudget does not keep pods up (maxUnavailable 1)")
        constraints = pod_spec(obj).get("topologySpreadConstraints") or []
        spread = {constraint["topologyKey"]: constraint for constraint in constraints
                  if _selects(constraint.get("labelSelector") or {}, labels)}
        host = spread.get("kubernetes.io/hostname")
        if host is None or host.get("whenUnsatisfiable") != "DoNotSchedule":
            problems.append(f"{where}: not spread over nodes (kubernetes.io/hostname, DoNotSchedule)")
        if "topology.kubernetes.io/zone" not in spread:
            problems.append(f"{where}: not spread over zones (topology.kubernetes.io/zone)")
    return problems


def _selects(selector: dict, labels: dict) -> bool:
    """A label selector (matchLabels only; we use no expressions) against a pod's labels."""
    if selector.get("matchExpressions"):
        raise ValueError("matchExpressions are not used in these manifests")
    match = selector.get("matchLabels") or {}
    return all(labels.get(key) == value for key, value in match.items())


def ingress_problems(objects) -> list[str]:
    problems = []
    ingresses = [obj for obj in objects if obj["kind"] == "Ingress"]
    if len(ingresses) != 1:
        problems.append(f"{len(ingresses)} Ingresses, expected one (for the BFF)")
    for ingress in ingresses:
        backends = [path["backend"]["service"]["name"]
                    for rule in ingress["spec"].get("rules") or []
                    for path in (rule.get("http") or {}).get("paths") or []]
        default = ingress["spec"].get("defaultBackend")
        if default:
            backends.append(default["service"]["name"])
        public = roster.BY_NAME[PUBLIC].k8s_service
        if not backends or set(backends) != {public}:
            problems.append(f"Ingress/{ingress['metadata']['name']}: routes to {sorted(set(backends))}, only {public} "
                            f"may be reached from outside")
    return problems


def _ingress_matches(rule: dict, path: str) -> bool:
    """Kubernetes Ingress matching: Exact is the whole path; Prefix is whole path elements."""
    wanted = rule["path"]
    if rule["pathType"] == "Exact":
        return path == wanted
    prefix = wanted.rstrip("/")
    return prefix in ("", path) or path.startswith(prefix + "/")


def ingress_path_problems(objects, public_paths, operational_paths) -> list[str]:
    """The Ingress reaches every path the browser calls and none of the operational ones
    (/metrics, /healthz, /readyz): they are for the kubelet and Prometheus inside the cluster."""
    ingresses = [obj for obj in objects if obj["kind"] == "Ingress"]
    rules = [path for obj in ingresses
             for rule in obj["spec"].get("rules") or [] for path in (rule.get("http") or {}).get("paths") or []]
    # A default backend answers every path no rule matches.
    rules += [{"path": "/", "pathType": "Prefix"} for obj in ingresses if obj["spec"].get("defaultBackend")]
    problems = []
    for path in sorted(operational_paths):
        exposing = [rule["path"] for rule in rules if _ingress_matches(rule, path)]
        if exposing:
            problems.append(f"Ingress: {path} is reachable from outside (through {exposing})")
    for path in sorted(public_paths):
        if not any(_ingress_matches(rule, path) for rule in rules):
            problems.append(f"Ingress: {path} is not routed to the BFF")
    return problems


def production_problems(objects, dev_objects) -> list[str]:
    """Production runs our images from ECR with more replicas than development."""
    problems = []
    for obj in objects:
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        for container in pod_spec(obj)["containers"]:
            image = container["image"]
            if "salesync-" in image and not re.fullmatch(rf"{ECR_REGISTRY_PATTERN}/salesync-[a-z]+:[\w.-]+", image):
                problems.append(f"{obj['kind']}/{obj['metadata']['name']}: image {image} is not "
                                f"<account>.dkr.ecr.ap-northeast-2.amazonaws.com/salesync-<name>:<tag>")
    prod, dev = _replicas(objects), _replicas(dev_objects)
    for service in roster.SERVICES:
        name = service.deploy
        if prod.get(name, 0) < MIN_PRODUCTION_REPLICAS:
            problems.append(f"Deployment/{name}: {prod.get(name, 0)} replica(s) in production, "
                            f"expected {MIN_PRODUCTION_REPLICAS} or more")
        if prod.get(name, 0) <= dev.get(name, 0):
            problems.append(f"Deployment/{name}: no more replicas in production ({prod.get(name)}) "
                            f"than in development ({dev.get(name)})")
    return problems


def _replicas(objects, *, most: bool = False) -> dict[str, int]:
    """The smallest (or largest) number of pods of each Deployment: its HPA's minReplicas (maxReplicas),
    else its replicas."""
    counts = {obj["metadata"]["name"]: obj["spec"].get("replicas", 1)
              for obj in objects if obj["kind"] == "Deployment"}
    for obj in objects:
        if obj["kind"] == "HorizontalPodAutoscaler":
            counts[obj["spec"]["scaleTargetRef"]["name"]] = obj["spec"]["maxReplicas" if most else "minReplicas"] \
                if most or "minReplicas" in obj["spec"] else 1
    return counts
