"""Compose, Kubernetes, the Dockerfiles and the code agree on ports, service names, environment
variables, health paths, worker processes and migrations."""
from __future__ import annotations

import copy

import pytest

from deploy_checks.agreement import compose_problems, k8s_env_names, k8s_problems
from deploy_checks.code_facts import code_facts, env_names_in
from deploy_checks.layout import COMPOSE_FILE, DEV, PROD, load_yaml
from deploy_checks.manifests import named, pod_spec, rendered


def test_the_code_facts_are_read_from_the_code():
    facts = code_facts()
    assert facts.local_ports["bff"] == 8000
    assert {"/healthz", "/readyz"} <= facts.health_routes
    assert facts.metrics_route == "/metrics"
    assert {"SALESYNC_JWT_SECRET", "SALESYNC_SERVICE_SECRET", "DATABASE_URL", "STORE_DATABASE_URL",
            "DASHBOARD_SERVICE_URL",
            "KAFKA_BOOTSTRAP_SERVERS", "OPENAI_API_KEY", "SALESYNC_RECONCILE_SECONDS"} <= facts.env_read
    assert set(facts.migrated_services) == set(facts.schemas)


def test_env_names_are_found_in_every_form_the_code_uses():
    text = '''
        a = env.get("PLAIN", "x"); b = os.environ.get("OS_GET"); c = os.environ["INDEXED"]
        d = _int(env, "HELPER", 3, minimum=1); e = env.get(f"{prefix}_DATABASE_URL")
        f = some.get("NOT_ENV")
    '''
    assert env_names_in(text, ["store", "bff"]) == {
        "PLAIN", "OS_GET", "INDEXED", "HELPER", "STORE_DATABASE_URL", "BFF_DATABASE_URL"}


# Variables the code reads that production leaves unset on purpose, and why. A new setting in the
# code fails test_production_sets_or_knowingly_defaults_every_variable until it is set or listed here.
LEFT_AT_DEFAULT = {
    "SALESYNC_BULKHEAD_WAIT_MS": "300 ms for a bulkhead slot: longer than a healthy report, shorter than a slow one",
    "SALESYNC_DB_POOL_SIZE": "GUNICORN_THREADS, which production sets",
    "SALESYNC_DB_MAX_OVERFLOW": "1 spare connection per process",
    "SALESYNC_DB_POOL_TIMEOUT_MS": "2 s, then 503",
    "SALESYNC_DB_STATEMENT_TIMEOUT_MS": "5 s",
    "SALESYNC_DB_LOCK_TIMEOUT_MS": "2 s",
    "SALESYNC_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": "10 s",
    "DATABASE_URL": "each service gets its own <SERVICE>_DATABASE_URL",
    "BFF_DATABASE_URL": "the BFF keeps no data",
    "AWS_DEFAULT_REGION": "AWS_REGION is set",
    "OPENAI_BASE_URL": "OpenAI's own endpoint",
    "CONSULTING_LEASE_SECONDS": "the default covers every model try",
    "CONSULTING_IDLE_MAX_SECONDS": "0.5 s: how long a new job may wait for an idle worker to look",
    "OPENAI_MAX_ANSWER_CHARS": "4000: a longer model answer gives the rule-based advice instead",
    "SALESYNC_BCRYPT_ROUNDS": "12",
    "SALESYNC_JWT_TTL_SECONDS": "one day",
    "SALESYNC_FAILPOINTS": "only tests inject failures",
    "SALESYNC_FAILPOINT_DELAYS": "only tests and drills make a service slow",
    "SALESYNC_REQUEST_DEADLINE_MS": "4 s for a request through the BFF, every inner call included",
    "SALESYNC_REPORT_DEADLINE_MS": "8 s for an owner's report",
    "PROMETHEUS_MULTIPROC_DIR": "the image's command sets it for gunicorn",
    "SALESYNC_CONSULTING_MAX_UNFINISHED": "3 unfinished consulting jobs per store",
    "SALESYNC_CONSULTING_PER_HOUR": "20 consulting jobs per store in any hour",
    "SALESYNC_SMS_MAX_DAYS_BACK": "7 days",
    "SALESYNC_SMS_PER_BUSINESS_DAY": "3 (the first and two resends)",
    "SALESYNC_SMS_PER_STORE_24H": "10",
    "SALESYNC_SMS_PER_PHONE_24H": "10 to one phone number, over all stores",
    "SALESYNC_SMS_DAILY_LIMIT": "1000",
    "SALESYNC_LOGIN_MAX_FAILURES": "5 per (username, client address)",
    "SALESYNC_LOGIN_MAX_FAILURES_PER_ADDRESS": "20 per client address",
    "SALESYNC_PWCHECK_MAX_FAILURES": "5 per (store, client address)",
    "SALESYNC_AUTH_FAILURE_WINDOW_SECONDS": "15 minutes",
    "SALESYNC_PASSWORD_CHANGE_WINDOW_SECONDS": "10 minutes from a right password check to the change",
    "SALESYNC_SIGNUP_MAX_PER_ADDRESS": "10 sign-ups per client address",
    "SALESYNC_SIGNUP_WINDOW_SECONDS": "one hour",
    "SALESYNC_SESSION_CHECK_SECONDS": "5: a password change ends the other tokens within 5 s",
    "SALESYNC_AUTH_LOCK_WAIT_MS": "2000: under the BFF's 4 s request deadline",
    "SALESYNC_MAX_JSON_DEPTH": "32 levels",
    "SALESYNC_MAX_BODY_BYTES": "64 KB",
    "SALESYNC_MAX_CATEGORIES_PER_STORE": "200 enabled categories per store",
    "SALESYNC_MAX_ITEMS_PER_STORE": "2,000 enabled items per store",
    "SALESYNC_MAX_REPORT_DAYS": "366 days from start to end of a report period",
    "DASHBOARD_DEAD_LETTER_MAX_BYTES": "16 KB of a dead letter's raw key and value each",
    "SALESYNC_SALES_PAGE_DEFAULT": "100 sales on a page of GET /sales/ without limit",
    "SALESYNC_SALES_PAGE_MAX": "500: the largest limit GET /sales/ accepts",
    "SALESYNC_PURGE_IDEMPOTENCY_KEYS_AFTER_HOURS": "24: a client retries within minutes",
    "SALESYNC_PURGE_OUTBOX_AFTER_DAYS": "7 days after delivery",
    "SALESYNC_PURGE_DEAD_LETTERS_AFTER_DAYS": "30 days to look into them",
    "SALESYNC_PURGE_CONSULTING_JOBS_AFTER_DAYS": "90 days after the job finished",
    "SALESYNC_PURGE_BATCH_SIZE": "1000 rows per purge transaction",
    "SALESYNC_VERIFIED_TOKENS_KEPT": "4,096 verified tokens remembered per process until their exp",
    "SALESYNC_MIGRATION_STATEMENT_TIMEOUT_MS": "10 minutes for a migration's statement (a backfill of a year)",
    "SALESYNC_KEEPALIVE_SECONDS": "75 s: longer than the BFF's idle gaps between calls to a service",
    "SALESYNC_CONSUMER_LAG_RETRY_SECONDS": "60: a hung Kafka costs one dashboard scrape a minute its timeout",
}


def unplanned_variables(set_names, read_names) -> list[str]:
    problems = [f"{name} is read by the code but neither set in production nor listed in LEFT_AT_DEFAULT"
                for name in sorted(set(read_names) - set(set_names) - set(LEFT_AT_DEFAULT))]
    problems += [f"LEFT_AT_DEFAULT lists {name}, which the code no longer reads"
                 for name in sorted(set(LEFT_AT_DEFAULT) - set(read_names))]
    return problems


def test_production_sets_or_knowingly_defaults_every_variable():
    assert unplanned_variables(k8s_env_names(rendered(PROD)), code_facts().env_read) == []


def test_a_new_setting_in_the_code_is_noticed():
    read = set(code_facts().env_read) | {"SALESYNC_NEW_KNOB"}
    read.discard("SALESYNC_FAILPOINTS")
    assert unplanned_variables(k8s_env_names(rendered(PROD)), read) == [
        "SALESYNC_NEW_KNOB is read by the code but neither set in production nor listed in LEFT_AT_DEFAULT",
        "LEFT_AT_DEFAULT lists SALESYNC_FAILPOINTS, which the code no longer reads",
    ]


def test_compose_agrees_with_the_code():
    assert compose_problems(load_yaml(COMPOSE_FILE), code_facts()) == []


def test_compose_disagreements_are_caught():
    compose = copy.deepcopy(load_yaml(COMPOSE_FILE))
    services = compose["services"]
    services["item"]["environment"] = {**services["item"]["environment"], "SALESYNC_JWT_SECRT": "x"}
    services["order"]["environment"] = {**services["order"]["environment"],
                                        "ORDER_SERVICE_URL": "http://order:8003"}
    services["sale"]["healthcheck"] = {**services["sale"]["healthcheck"],
                                       "test": ["CMD", "curl", "-f", "http://127.0.0.1:5000/health"]}
    services["store"]["ports"] = ["8001:5000"]
    services["dashboard"]["environment"] = {
        **services["dashboard"]["environment"], "CONSULTING_DATABASE_URL": "postgresql://postgres@postgres/x"}
    services["dashboard-consumer"]["command"] = ["python", "-m", "dashboard_service.consumers"]
    del services["migrate-item"]
    services["consulting-worker"]["healthcheck"] = {"disable": True}
    problems = compose_problems(compose, code_facts())
    for expected in (
        "compose item: sets SALESYNC_JWT_SECRT, which neither the code nor the runtime reads",
        "compose order: ORDER_SERVICE_URL=http://order:8003, expected http://order:5000",
        "compose sale: health check on :5000/health, but the app answers ['/healthz', '/readyz'] on :5000",
        "compose dashboard: gets another service's database (CONSULTING_DATABASE_URL)",
        "compose dashboard-consumer: runs dashboard_service.consumers, which is neither a worker, the "
        "migrations nor the web app",
        "compose: nothing runs `python -m salesync_common.migrate item`",
        "compose: no service dashboard-consumer running `python -m dashboard_service.consumer` (as make run does)",
        "compose store: publishes ['8001:5000']; only the BFF is published",
        "compose consulting-worker: no liveness check (python -m salesync_common.liveness <file> <seconds>)",
    ):
        assert expected in problems


@pytest.mark.parametrize("environment", [DEV, PROD], ids=lambda path: path.name)
def test_kubernetes_agrees_with_the_code(environment):
    assert k8s_problems(rendered(environment), code_facts()) == []


def test_kubernetes_disagreements_are_caught():
    objects = copy.deepcopy(list(rendered(PROD)))
    config = named(objects, "ConfigMap", "salesync-config")
    config["data"]["DASHBOARD_SERVICE_URL"] = "http://service-dashboard.salesync.svc.cluster.local"
    sale = pod_spec(named(objects, "Deployment", "sale"))["containers"][0]
    sale["readinessProbe"]["httpGet"]["path"] = "/ready"
    sale["env"].append({"name": "SALESYNC_RECONCILE_SECS", "value": "15"})
    store = pod_spec(named(objects, "Deployment", "store"))["containers"][0]
    store["env"] = [item for item in store["env"] if item["name"] != "STORE_DATABASE_URL"]
    store["env"].append({"name": "DATABASE_URL", "value": "postgresql://postgres:hunter2@db/salesync"})
    service = named(objects, "Service", "service-item")
    service["spec"]["ports"][0]["targetPort"] = 8002
    named(objects, "PodMonitor", "salesync")["spec"]["podMetricsEndpoints"][0]["path"] = "/metric"
    consumer = pod_spec(named(objects, "Deployment", "dash-consumer"))["containers"][0]
    consumer["livenessProbe"]["exec"]["command"][3] = "/tmp/healthy"
    objects = [obj for obj in objects if obj["metadata"]["name"] != "migrate-order"]
    objects.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "salesync-jwt"},
                    "data": {"SALESYNC_JWT_SECRET": "c2VjcmV0"}})
    problems = k8s_problems(objects, code_facts())
    for expected in (
        "Deployment/bff: DASHBOARD_SERVICE_URL=http://service-dashboard.salesync.svc.cluster.local, expected "
        "http://service-dash.salesync.svc.cluster.local",
        "Deployment/sale: readinessProbe is {'path': '/ready', 'port': 'http'}, expected GET /readyz on 5000",
        "Deployment/sale: sets SALESYNC_RECONCILE_SECS, which neither the code nor the runtime reads",
        "Deployment/store: DATABASE_URL must come from a Secret, not a value",
        "Service/service-item: port 80 -> 8002, expected 80 -> 5000",
        "Deployment/bff: no PodMonitor scrapes /metrics on its port 5000 (found [{'interval': '30s', 'path': "
        "'/metric', 'port': 'http', 'scrapeTimeout': '10s'}])",
        "no Job runs `python -m salesync_common.migrate order`",
        "Secret/salesync-jwt: Secrets are created by hand, never committed",
        "Deployment/dash-consumer: the liveness check reads ['/tmp/healthy'], but the process touches "
        "SALESYNC_LIVENESS_FILE='/tmp/alive'",
    ):
        assert expected in problems
