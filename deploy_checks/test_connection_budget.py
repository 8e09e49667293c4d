"""The connection budget of the rendered environments (README "Connection budget"):
  clients: sum over processes of pods (HPA maximum) x gunicorn workers x (pool + overflow)
           <= MAX_CLIENT_CONN of one PgBouncer pod (the other may be drained or rolling);
  servers: PgBouncer pods x MAX_DB_CONNECTIONS + one direct connection per migration Job
           <= PostgreSQL's max_connections - a reserve.
The migration Jobs connect to PostgreSQL directly (never through transaction pooling: their advisory lock
is session-level), one connection each, only while a sync runs them.
A process's pool is its request threads plus one overflow connection (salesync_common.database:
SALESYNC_DB_POOL_SIZE, default GUNICORN_THREADS, else 4; SALESYNC_DB_MAX_OVERFLOW, default 1)."""
from __future__ import annotations

import copy
import dataclasses

import pytest

from deploy_checks.agreement import _image_deployable
from deploy_checks.layout import DEV, PROD
from deploy_checks.manifests import named, pod_spec, rendered

POSTGRES_MAX_CONNECTIONS = 100  # PostgreSQL's default; RDS sizes it by instance class (say so if it is lower)
POSTGRES_RESERVE = 20  # superuser_reserved_connections, an operator's psql, backups, monitoring
DEFAULT_THREADS = 4
DEFAULT_OVERFLOW = 1
# A purge CronJob (another change) runs one process with the default pool.
PURGE_CLIENTS = DEFAULT_THREADS + DEFAULT_OVERFLOW


@dataclasses.dataclass(frozen=True)
class Budget:
    clients: int
    max_client_conn: int
    servers: int
    pooler_replicas: int
    pool_mode: str
    migrations: int = 0


def _env(container) -> dict[str, str]:
    return {item["name"]: str(item["value"]) for item in container.get("env") or [] if "value" in item}


def _most_pods(objects, obj) -> int:
    hpa = [other for other in objects if other["kind"] == "HorizontalPodAutoscaler"
           and other["spec"]["scaleTargetRef"]["name"] == obj["metadata"]["name"]]
    if hpa:
        return hpa[0]["spec"]["maxReplicas"]
    return obj["spec"].get("replicas", 1) if obj["kind"] == "Deployment" else 1


def _is_migration(obj) -> bool:
    return obj["kind"] == "Job" and obj["spec"]["template"]["metadata"].get("labels", {}).get(
        "app.kubernetes.io/component") == "migration"


def client_connections(objects) -> dict[str, int]:
    """Workload -> the PgBouncer connections its pods may hold at most (only processes with a database,
    not the migration Jobs, which go to PostgreSQL directly)."""
    found = {}
    for obj in objects:
        if obj["kind"] not in ("Deployment", "Job") or _is_migration(obj):
            continue
        for container in pod_spec(obj)["containers"]:
            deployable = _image_deployable(container["image"])
            if deployable is None or deployable.schema is None:
                continue
            env = _env(container)
            threads = int(env.get("SALESYNC_DB_POOL_SIZE", env.get("GUNICORN_THREADS", DEFAULT_THREADS)))
            per_process = threads + int(env.get("SALESYNC_DB_MAX_OVERFLOW", DEFAULT_OVERFLOW))
            processes = _most_pods(objects, obj) * int(env.get("GUNICORN_WORKERS", 1))
            found[obj["metadata"]["name"]] = processes * per_process
    return found


def budget(objects) -> Budget:
    pooler = named(objects, "Deployment", "pgbouncer")
    env = _env(pod_spec(pooler)["containers"][0])
    return Budget(clients=sum(client_connections(objects).values()) + PURGE_CLIENTS,
                  max_client_conn=int(env["MAX_CLIENT_CONN"]), servers=int(env["MAX_DB_CONNECTIONS"]),
                  pooler_replicas=pooler["spec"].get("replicas", 1), pool_mode=env["POOL_MODE"],
                  migrations=sum(map(_is_migration, objects)))


def budget_problems(objects) -> list[str]:
    found = budget(objects)
    problems = []
    if found.pool_mode != "transaction":
        problems.append(f"PgBouncer pools by {found.pool_mode}, expected transaction")
    if found.clients > found.max_client_conn:
        problems.append(f"{found.clients} client connections at the HPA maxima, over one PgBouncer's "
                        f"MAX_CLIENT_CONN {found.max_client_conn}")
    servers = found.pooler_replicas * found.servers + found.migrations
    if servers > POSTGRES_MAX_CONNECTIONS - POSTGRES_RESERVE:
        problems.append(f"{found.pooler_replicas} PgBouncers x MAX_DB_CONNECTIONS {found.servers} + "
                        f"{found.migrations} migrations = {servers}, over PostgreSQL's {POSTGRES_MAX_CONNECTIONS} "
                        f"less {POSTGRES_RESERVE} reserved")
    return problems


@pytest.mark.parametrize("environment", [DEV, PROD], ids=lambda path: path.name)
def test_the_connections_fit_pgbouncer_and_postgresql(environment):
    assert budget_problems(rendered(environment)) == []


def test_the_production_budget_is_the_one_the_readme_gives():
    objects = rendered(PROD)
    assert client_connections(objects)["order"] == 12 * 2 * 5  # HPA max x workers x (4 threads + 1)
    assert budget(objects) == Budget(clients=340, max_client_conn=500, servers=37, pooler_replicas=2,
                                     pool_mode="transaction", migrations=6)


def test_budget_check_catches_more_pods_than_pgbouncer_takes_and_too_many_servers():
    objects = copy.deepcopy(list(rendered(PROD)))
    named(objects, "HorizontalPodAutoscaler", "sale")["spec"]["maxReplicas"] = 40
    named(objects, "Deployment", "pgbouncer")["spec"]["replicas"] = 3
    assert budget_problems(objects) == [
        "620 client connections at the HPA maxima, over one PgBouncer's MAX_CLIENT_CONN 500",
        "3 PgBouncers x MAX_DB_CONNECTIONS 37 + 6 migrations = 117, over PostgreSQL's 100 less 20 reserved",
    ]
