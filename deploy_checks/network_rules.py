"""The NetworkPolicies against who talks to whom in the code (deploy_checks.call_graph).

NetworkPolicies add up: a pod may send (receive) what any policy selecting it for Egress (Ingress)
allows, and nothing when none does. Each function below reads the rendered objects as the API
server would and returns a list of problems.
"""
from __future__ import annotations

import dataclasses

from salesync_common import roster

from . import call_graph
from .layout import CONTAINER_PORT, PUBLIC

POSTGRES_PORT = 5432
KAFKA_PORT = 9092
HTTPS_PORT = 443
DNS_PORT = 53
POOLER = {"app.kubernetes.io/name": "pgbouncer", "app.kubernetes.io/component": "pooler"}
KUBE_DNS = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
# Prometheus scraping /metrics from its own namespace (k8s/monitoring/networkpolicy-prometheus.yaml).
PROMETHEUS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}
# The purge CronJobs' pods (one per service with purged tables): each needs its database and nothing else.
PURGE_POD = {"app.kubernetes.io/part-of": "salesync", "app.kubernetes.io/component": "purge"}
# The migration Jobs' pods: PostgreSQL directly, never PgBouncer (salesync_common/migrations_env.py says why).
MIGRATION_POD = {"app.kubernetes.io/component": "migration"}
# The dev overlay's PostgreSQL (production's is outside the cluster, an ipBlock).
POSTGRES = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/component": "database"}


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    labels: dict


def _pod_template(obj: dict) -> dict | None:
    if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
        return obj["spec"]["template"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    return None


def workloads(objects) -> list[Workload]:
    return [Workload(obj["metadata"]["name"], template["metadata"].get("labels") or {})
            for obj in objects if (template := _pod_template(obj)) is not None]


def selects(selector: dict, labels: dict) -> bool:
    """A label selector (matchLabels only; these manifests use no expressions) against a pod's labels."""
    if selector.get("matchExpressions"):
        raise ValueError("matchExpressions are not used in these manifests")
    return all(labels.get(key) == value for key, value in (selector.get("matchLabels") or {}).items())


def rules(objects, labels: dict, direction: str) -> list[dict]:
    """The rules ('ingress' or 'egress') of every policy that selects a pod with these labels."""
    policy_type = direction.capitalize()
    return [rule for obj in objects if obj["kind"] == "NetworkPolicy"
            and policy_type in obj["spec"].get("policyTypes", ["Ingress"])
            and selects(obj["spec"]["podSelector"], labels)
            for rule in obj["spec"].get(direction) or []]


def _peers(rule: dict, direction: str) -> list[dict]:
    return rule.get("to" if direction == "egress" else "from") or [{}]  # none: every peer


def _allows_port(rule: dict, port: int, protocol: str = "TCP") -> bool:
    ports = rule.get("ports")
    return not ports or any(entry.get("port") == port and entry.get("protocol", "TCP") == protocol for entry in ports)


def _in_namespace(peer: dict) -> bool:
    return set(peer) == {"podSelector"}


def reachable(objects, labels: dict, port: int, direction: str = "egress") -> list[dict]:
    """The peers a pod may send to (or receive from) on a TCP port."""
    return [peer for rule in rules(objects, labels, direction) if _allows_port(rule, port)
            for peer in _peers(rule, direction)]


def _peer_workloads(peers, all_workloads) -> set[str]:
    return {workload.name for peer in peers if _in_namespace(peer) for workload in all_workloads
            if selects(peer["podSelector"], workload.labels)}


def _web(service: str) -> str:
    return roster.BY_NAME[service].deploy


def default_deny_problems(objects) -> list[str]:
    deny = [obj for obj in objects if obj["kind"] == "NetworkPolicy" and obj["spec"]["podSelector"] == {}
            and set(obj["spec"].get("policyTypes") or []) == {"Ingress", "Egress"}
            and not obj["spec"].get("ingress") and not obj["spec"].get("egress")]
    return [] if deny else ["no default-deny NetworkPolicy (every pod, Ingress and Egress, no rule)"]


def call_problems(objects) -> list[str]:
    """Each process sends to exactly the services it calls in the code, and each service admits
    exactly its callers (on the container port)."""
    problems = []
    found = {workload.name: workload for workload in workloads(objects)}
    webs = {_web(service.name) for service in roster.SERVICES}
    for process in call_graph.processes():
        workload = found.get(process.deployment)
        if workload is None:
            continue
        expected = {_web(name) for name in call_graph.reaches(process) if name in roster.BY_NAME}
        allowed = _peer_workloads(reachable(objects, workload.labels, CONTAINER_PORT), found.values()) & webs
        for name in sorted(allowed - expected):
            problems.append(f"{process.deployment} may call {name}, which its code never calls")
        for name in sorted(expected - allowed):
            problems.append(f"{process.deployment} calls {name} in the code, but no egress policy lets it")
    for service in roster.SERVICES:
        workload = found.get(service.deploy)
        if workload is None:
            continue
        callers = {process.deployment for process in call_graph.processes()
                   if service.name in call_graph.reaches(process)}
        admitted = _peer_workloads(reachable(objects, workload.labels, CONTAINER_PORT, "ingress"), found.values())
        for name in sorted(admitted - callers):
            problems.append(f"{service.deploy} admits {name}, which never calls it")
        for name in sorted(callers - admitted):
            problems.append(f"{service.deploy} does not admit {name}, which calls it in the code")
    return problems


def outside_problems(objects) -> list[str]:
    """From outside the namespace: the BFF from the ingress controller only, and Prometheus to web pods."""
    problems = []
    for workload in workloads(objects):
        is_public = workload.labels.get("app.kubernetes.io/name") == _web(PUBLIC) and \
            workload.labels.get("app.kubernetes.io/component") == "web"
        outside = [peer for rule in rules(objects, workload.labels, "ingress") for peer in _peers(rule, "ingress")
                   if not _in_namespace(peer) and peer != PROMETHEUS_PEER]
        if outside and not is_public:
            problems.append(f"{workload.name}: admits traffic from outside the namespace ({outside})")
        if is_public and (not outside or any(peer == {} for peer in outside)):
            problems.append(f"{workload.name}: the BFF must admit its ingress controller, and only it ({outside})")
    return problems


def egress_problems(objects) -> list[str]:
    """Each process's way out besides its callees: DNS for all; PgBouncer for those with a database, but
    the migration Jobs, which reach PostgreSQL directly like PgBouncer and no one else; Kafka and HTTPS (to
    addresses outside the cluster) only for those whose code uses them. No egress rule without peers or ports."""
    problems = []
    reaches = {process.deployment: call_graph.reaches(process) for process in call_graph.processes()}
    all_workloads = workloads(objects)
    for workload in all_workloads:
        egress = rules(objects, workload.labels, "egress")
        if any(not rule.get("ports") or not rule.get("to") for rule in egress):
            problems.append(f"{workload.name}: an egress rule without ports or peers lets it reach anything")
        dns = [rule for rule in egress if KUBE_DNS in rule.get("to", [])]
        if not all(any(_allows_port(rule, DNS_PORT, protocol) for rule in dns) for protocol in ("UDP", "TCP")):
            problems.append(f"{workload.name}: may not ask kube-dns (UDP and TCP 53)")
        is_purge = selects({"matchLabels": PURGE_POD}, workload.labels)
        needs_database = call_graph.DATABASE in reaches.get(workload.name, frozenset()) or is_purge
        problems += _database_problems(objects, workload, needs_database)
        problems += _admission_problems(objects, workload, all_workloads, needs_database)
        if workload.name in reaches:  # else not our code (PgBouncer, the dev PostgreSQL and Kafka)
            problems += _sink_problems(egress, workload.name, reaches[workload.name])
    return problems


def _sink_problems(egress: list[dict], name: str, uses: frozenset[str]) -> list[str]:
    problems = []
    for sink, port in ((call_graph.KAFKA, KAFKA_PORT), (call_graph.HTTPS, HTTPS_PORT)):
        peers = [peer for rule in egress if _allows_port(rule, port) and rule.get("ports")
                 for peer in _peers(rule, "egress")]
        if peers and sink not in uses:
            problems.append(f"{name}: may reach port {port} ({sink}), which its code does not use")
        if sink in uses and not peers:
            problems.append(f"{name}: its code uses {sink}, but no egress policy allows port {port}")
        if sink == call_graph.HTTPS and any("ipBlock" not in peer for peer in peers):
            problems.append(f"{name}: HTTPS out goes to pods or namespaces, not only outside addresses")
    return problems


def _is_pooler(peer: dict) -> bool:
    return _in_namespace(peer) and selects(peer["podSelector"], POOLER)


def _database_peers(objects, labels: dict) -> list[dict]:
    return [peer for rule in rules(objects, labels, "egress") if _allows_port(rule, POSTGRES_PORT)
            for peer in _peers(rule, "egress")]


def _goes_direct(labels: dict) -> bool:
    """PgBouncer, and the migrations: their session-level advisory lock must not meet transaction pooling."""
    return selects({"matchLabels": POOLER}, labels) or selects({"matchLabels": MIGRATION_POD}, labels)


def _database_problems(objects, workload: Workload, needs: bool) -> list[str]:
    """Who reaches PostgreSQL how: PgBouncer and the migration Jobs directly (to the same peers), never a
    migration through PgBouncer; every other process with a database through PgBouncer only."""
    peers = _database_peers(objects, workload.labels)
    direct = [peer for peer in peers if not _is_pooler(peer)]
    through_pooler = any(_is_pooler(peer) for peer in peers)
    if not _goes_direct(workload.labels):
        problems = [f"{workload.name}: reaches PostgreSQL directly ({direct}); only PgBouncer and the "
                    f"migrations may"] if direct else []
        if through_pooler != needs:
            problems.append(f"{workload.name}: {'needs' if needs else 'has no database but gets'} PgBouncer egress")
        return problems
    problems = [] if direct else [f"{workload.name}: may not reach PostgreSQL"]
    if selects({"matchLabels": MIGRATION_POD}, workload.labels):
        if through_pooler:
            problems.append(f"{workload.name}: a migration goes through PgBouncer, whose transaction pooling "
                            f"strands its advisory lock; it must reach PostgreSQL directly")
        pooler_peers = [_database_peers(objects, other.labels) for other in workloads(objects)
                        if selects({"matchLabels": POOLER}, other.labels)]
        if direct and pooler_peers and sorted(map(repr, direct)) != sorted(map(repr, pooler_peers[0])):
            problems.append(f"{workload.name}: reaches {direct} on {POSTGRES_PORT}, not PostgreSQL where PgBouncer "
                            f"does ({pooler_peers[0]})")
    return problems


def _admission_problems(objects, workload: Workload, all_workloads, needs: bool) -> list[str]:
    """PgBouncer admits exactly the processes with a database that go through it; PostgreSQL in the
    namespace (dev) exactly PgBouncer and the migrations."""
    problems = []
    direct = _goes_direct(workload.labels)
    for server, admits in ((POOLER, needs and not direct), (POSTGRES, direct)):
        for other in (other for other in all_workloads if selects({"matchLabels": server}, other.labels)):
            admitted = _peer_workloads(reachable(objects, other.labels, POSTGRES_PORT, "ingress"), [workload])
            if bool(admitted) != admits:
                problems.append(f"{other.name}: {'does not admit' if admits else 'admits'} {workload.name}")
    return problems


def direct_key(variable: str) -> str:
    """The Secret key of a migration's URL: ORDER_DATABASE_URL -> ORDER_MIGRATION_DATABASE_URL."""
    return variable.removesuffix("DATABASE_URL") + "MIGRATION_DATABASE_URL"


def database_key_problems(objects) -> list[str]:
    """A migration Job's database URL comes from the Secret's direct key (<SERVICE>_MIGRATION_DATABASE_URL:
    PostgreSQL itself), never the pooled one; every other process's from its pooled key, which names
    PgBouncer (k8s/README.md, Secrets). A URL written as a literal is refused by deploy_checks.agreement."""
    problems = []
    for obj in objects:
        template = _pod_template(obj)
        if template is None:
            continue
        migration = selects({"matchLabels": MIGRATION_POD}, template["metadata"].get("labels") or {})
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        for container in template["spec"]["containers"]:
            for item in container.get("env") or []:
                reference = (item.get("valueFrom") or {}).get("secretKeyRef")
                if not item["name"].endswith("DATABASE_URL") or reference is None:
                    continue
                expected = direct_key(item["name"]) if migration else item["name"]
                if reference["key"] != expected:
                    why = "a migration connects to PostgreSQL directly" if migration else "it goes through PgBouncer"
                    problems.append(f"{where}: {item['name']} from the key {reference['key']}; {why}: the key "
                                    f"{expected}")
    return problems
