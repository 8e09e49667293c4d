"""NetworkPolicies, both ways, against who talks to whom in the code: default deny; each service admits
its callers and each process reaches its callees, DNS, PgBouncer, Kafka and HTTPS only where its code
uses them; from outside, only the ingress controller (to the BFF) and Prometheus (to /metrics)."""
from __future__ import annotations

import ast
import copy

import pytest

from deploy_checks import call_graph, network_rules
from deploy_checks.layout import DEV, PROD
from deploy_checks.manifests import named, pod_spec, rendered

ENVIRONMENTS = [DEV, PROD]
PURGE_CRONJOBS = ["purge-consulting", "purge-dash", "purge-order", "purge-sale", "purge-store"]
MIGRATION_JOBS = [f"migrate-{name}" for name in ("consulting", "dash", "item", "order", "sale", "store")]
POOLER_PEER = {"podSelector": {"matchLabels": network_rules.POOLER}}


def test_who_calls_whom_is_read_from_the_code():
    reaches = {process.deployment: call_graph.reaches(process) for process in call_graph.processes()}
    assert reaches["bff"] == {"store", "item", "order", "sale", "dashboard", "consulting"}
    assert reaches["sale"] == {"order", "store", "database"}  # payments, the reconciler, the time zone
    assert reaches["dash"] == {"order", "sale", "item", "store", "database", "https", "kafka"}  # reports; SNS; lag
    assert reaches["consulting"] == {"database"}  # the web app only queues jobs
    # a period's payments, orders and menu; the outbox; OpenAI
    assert reaches["consulting-worker"] == {"sale", "order", "item", "database", "kafka", "https"}
    assert reaches["dash-consumer"] == {"database", "kafka"}
    assert reaches["migrate-order"] == {"database"}


def test_a_call_is_found_through_functions_classes_and_modules():
    tree = ast.parse('''
from . import helpers
def route():
    return helpers.lookup()
def lookup():
    return Reader().read()
class Reader:
    def read(self):
        return service_client().get("item", "/internal/items")
def unrelated():
    return {}.get("store")
def period(client):
    return _read(client, "sale", "/internal/consulting/sales")
''')
    functions = call_graph._functions_of(tree)
    assert functions["Reader"][0].members[0].reaches == {"item"}
    assert functions["route"][0].names >= {"lookup"}
    assert functions["unrelated"][0].reaches == set()
    assert functions["period"][0].reaches == {"sale"}  # a helper handed the client and the service


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_the_policies_allow_exactly_what_the_code_needs(environment):
    objects = rendered(environment)
    assert network_rules.default_deny_problems(objects) == []
    assert network_rules.call_problems(objects) == []
    assert network_rules.outside_problems(objects) == []
    assert network_rules.egress_problems(objects) == []
    assert network_rules.database_key_problems(objects) == []


def test_network_rules_catch_a_wrong_caller_an_open_service_and_a_missing_deny():
    objects = copy.deepcopy(list(rendered(PROD)))
    objects.remove(named(objects, "NetworkPolicy", "default-deny"))
    store_in = named(objects, "NetworkPolicy", "store-ingress")["spec"]["ingress"][0]["from"]
    store_in.append({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "consulting",
                                                     "app.kubernetes.io/component": "web"}}})
    store_in.append({"namespaceSelector": {}})
    order_out = named(objects, "NetworkPolicy", "order-egress")["spec"]["egress"][0]["to"]
    order_out[:] = [peer for peer in order_out
                    if peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] != "item"]
    named(objects, "NetworkPolicy", "bff-ingress")["spec"]["ingress"][0] = {}
    assert network_rules.default_deny_problems(objects) == [
        "no default-deny NetworkPolicy (every pod, Ingress and Egress, no rule)"]
    assert network_rules.call_problems(objects) == [
        "order calls item in the code, but no egress policy lets it",
        "store admits consulting, which never calls it",
    ]
    assert network_rules.outside_problems(objects) == [
        "bff: the BFF must admit its ingress controller, and only it ([{}])",
        "store: admits traffic from outside the namespace ([{'namespaceSelector': {}}])",
    ]


def test_egress_rules_catch_direct_database_access_stray_https_and_missing_kafka():
    objects = copy.deepcopy(list(rendered(PROD)))
    sale_out = named(objects, "NetworkPolicy", "sale-egress")["spec"]["egress"]
    sale_out.append({"to": [{"ipBlock": {"cidr": "10.0.64.0/20"}}], "ports": [{"port": 5432, "protocol": "TCP"}]})
    sale_out.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "protocol": "TCP"}]})
    objects.remove(named(objects, "NetworkPolicy", "dash-consumer-kafka"))
    objects.remove(named(objects, "NetworkPolicy", "purge-egress"))
    named(objects, "NetworkPolicy", "store-egress")["spec"]["egress"].append({"to": [{"podSelector": {}}]})
    assert sorted(network_rules.egress_problems(objects)) == sorted([
        "store: an egress rule without ports or peers lets it reach anything",
        "sale: reaches PostgreSQL directly ([{'ipBlock': {'cidr': '10.0.64.0/20'}}]); only PgBouncer and the "
        "migrations may",
        "sale: may reach port 443 (https), which its code does not use",
        "dash-consumer: its code uses kafka, but no egress policy allows port 9092",
        *(f"{name}: needs PgBouncer egress" for name in PURGE_CRONJOBS),
    ])


def test_egress_rules_catch_a_migration_through_pgbouncer_and_one_to_another_address():
    """Transaction pooling strands a migration's session-level advisory lock: its Job must go to
    PostgreSQL itself, where PgBouncer goes, and PgBouncer must not admit it."""
    objects = copy.deepcopy(list(rendered(PROD)))
    named(objects, "NetworkPolicy", "migrations-egress")["spec"]["egress"][0]["to"] = [POOLER_PEER]
    named(objects, "NetworkPolicy", "pgbouncer-ingress")["spec"]["ingress"][0]["from"].append(
        {"podSelector": {"matchLabels": network_rules.MIGRATION_POD}})
    assert sorted(network_rules.egress_problems(objects)) == sorted([
        *(f"{name}: may not reach PostgreSQL" for name in MIGRATION_JOBS),
        *(f"{name}: a migration goes through PgBouncer, whose transaction pooling strands its advisory lock; "
          f"it must reach PostgreSQL directly" for name in MIGRATION_JOBS),
        *(f"pgbouncer: admits {name}" for name in MIGRATION_JOBS),
    ])
    elsewhere = copy.deepcopy(list(rendered(PROD)))
    named(elsewhere, "NetworkPolicy", "migrations-egress")["spec"]["egress"][0]["to"] = [
        {"ipBlock": {"cidr": "10.9.0.0/16"}}]
    assert sorted(network_rules.egress_problems(elsewhere)) == [
        f"{name}: reaches [{{'ipBlock': {{'cidr': '10.9.0.0/16'}}}}] on 5432, not PostgreSQL where PgBouncer does "
        f"([{{'ipBlock': {{'cidr': '10.0.64.0/20'}}}}])" for name in MIGRATION_JOBS]


def test_the_dev_postgresql_admits_pgbouncer_and_the_migrations_only():
    objects = copy.deepcopy(list(rendered(DEV)))
    admitted = named(objects, "NetworkPolicy", "postgres-ingress")["spec"]["ingress"][0]["from"]
    admitted[:] = [peer for peer in admitted if peer["podSelector"]["matchLabels"] != network_rules.MIGRATION_POD]
    admitted.append({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "order",
                                                     "app.kubernetes.io/component": "web"}}})
    assert sorted(network_rules.egress_problems(objects)) == sorted([
        "postgres: admits order", *(f"postgres: does not admit {name}" for name in MIGRATION_JOBS)])


def test_a_migration_job_takes_the_direct_key_and_the_others_the_pooled_one():
    objects = copy.deepcopy(list(rendered(PROD)))
    migrate = pod_spec(named(objects, "Job", "migrate-order"))["containers"][0]
    next(item for item in migrate["env"] if item["name"] == "ORDER_DATABASE_URL")["valueFrom"]["secretKeyRef"][
        "key"] = "ORDER_DATABASE_URL"
    web = pod_spec(named(objects, "Deployment", "sale"))["containers"][0]
    next(item for item in web["env"] if item["name"] == "SALE_DATABASE_URL")["valueFrom"]["secretKeyRef"][
        "key"] = "SALE_MIGRATION_DATABASE_URL"
    assert network_rules.database_key_problems(objects) == [
        "Deployment/sale: SALE_DATABASE_URL from the key SALE_MIGRATION_DATABASE_URL; it goes through PgBouncer: "
        "the key SALE_DATABASE_URL",
        "Job/migrate-order: ORDER_DATABASE_URL from the key ORDER_DATABASE_URL; a migration connects to "
        "PostgreSQL directly: the key ORDER_MIGRATION_DATABASE_URL",
    ]
