"""The services through a real PgBouncer in transaction pooling, as compose and Kubernetes run them: a
store's day through the BFF works (sign-up, menu, orders, payments, a keyed retry, a refund, the
reports), terminals at once share a pool far smaller than their client connections, and PgBouncer never
opens more server connections than its pool. Skipped when the `pgbouncer` binary (Debian package
pgbouncer) is not installed."""
import contextlib
import datetime
import threading
import uuid
import zoneinfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from salesync_common import roster
from salesync_common.database import bound_every_transaction, engine_options
from salesync_common.settings import normalise_database_url
from testsupport.pgbouncer import PgBouncer, pgbouncer_binary
from testsupport.served import ServiceProcess
from testsupport.settings import migrated_settings, settings_for_tests
from testsupport.shop import Http, Shop

pytestmark = pytest.mark.skipif(pgbouncer_binary() is None, reason="the pgbouncer binary is not installed "
                                "(apt-get install pgbouncer): the services are not tried through PgBouncer")

POOL_SIZE = 3  # server connections PgBouncer may open to the database: fewer than the services' clients
SERVED = ("store", "item", "order", "sale", "dashboard", "bff")  # consulting needs Kafka; its own e2e covers it
TODAY = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()


@pytest.fixture(scope="module")
def bouncer(database_url):
    for service in roster.SERVICES:
        if service.schema:  # straight to PostgreSQL, as the migration Job does (a session-level advisory lock)
            migrated_settings(service.name, database_url)
    with PgBouncer(database_url, pool_size=POOL_SIZE) as bouncer:
        yield bouncer


@pytest.fixture(scope="module")
def pool_figures(bouncer, database_url):
    """The largest numbers of clients and of server connections PgBouncer's pool had, sampled every 50 ms."""
    database = make_url(database_url).database
    highest = {"cl_active": 0, "cl_waiting": 0, "servers": 0}
    stop = threading.Event()

    def sample():
        with contextlib.closing(bouncer.admin_console()) as console:
            while not stop.wait(0.05):
                for name, value in bouncer.pools(database, console).items():
                    highest[name] = max(highest[name], value)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    yield highest
    stop.set()
    sampler.join(timeout=5)


@pytest.fixture(scope="module")
def bff(bouncer, pool_figures):
    started, env = {}, {}
    try:
        for service in SERVED:
            started[service] = ServiceProcess(service, bouncer.url, env=env)
            env[f"{service.upper()}_SERVICE_URL"] = started[service].url
        yield started["bff"].url
    finally:
        for process in reversed(started.values()):
            process.stop()


def owner_of_a_new_store(bff):
    owner = Shop(Http(bff, headers={"X-CSRF-Token": "csrf"}, timeout=15))
    owner.sign_up(username="pgb" + uuid.uuid4().hex[:8], store_name="풀카페")
    owner.log_in()
    return owner


def test_a_store_day_through_pgbouncer(bff):
    owner = owner_of_a_new_store(bff)
    owner.build_menu({"커피": {"아메리카노": "4000", "라떼": "4500"}, "디저트": {"티라미수": "7000"}})
    assert [i["name"] for c in owner.call("GET", "/categories/items")["categories"] for i in c["items"]] == [
        "아메리카노", "라떼", "티라미수"]

    owner.order(1, 아메리카노=2)
    changed = owner.call("PUT", "/orders/", {"table_no": 1, "carts": owner.cart(아메리카노=2, 티라미수=1)},
                         **{"Idempotency-Key": "put-1"})
    assert changed["total_price"] == 15000
    owner.order(2, 라떼=1)
    owner.order(5, 라떼=1)
    owner.call("DELETE", "/orders/5")

    card = owner.pay(1, 15000, key="pay-1")
    again = owner.pay(1, 15000, key="pay-1")  # the POS retries: one sale, the same answer
    assert again["id"] == card["id"]
    cash = owner.pay(2, 4500, "현금")
    assert owner.call("GET", "/orders/unpaids")["orders"] == []
    assert {sale["id"] for sale in owner.call("GET", "/sales/")["sales"]} == {card["id"], cash["id"]}

    owner.refund(cash)
    pie = owner.call("GET", f"/bff/sales?start={TODAY}&end={TODAY}")
    assert pie["sales_volume"] == 15000
    assert {item["name"]: item["sales_volume"] for item in pie["items"]} == {"아메리카노": 8000, "티라미수": 7000}


def test_terminals_at_once_share_a_pool_smaller_than_their_connections(bff, pool_figures):
    owner = owner_of_a_new_store(bff)
    owner.build_menu({"식사": {"김밥": 3000, "라면": 4000}})
    failures, sales = [], []

    def terminal(table_no):
        pos = Shop(Http(bff, headers=owner.headers, timeout=15))
        pos.items = owner.items
        try:
            for round_no in range(4):
                order = pos.order(table_no, 김밥=1 + round_no, 라면=1)
                sales.append(pos.pay(table_no, order["total_price"], key=f"t{table_no}-{round_no}")["id"])
        except AssertionError as failure:
            failures.append(str(failure))

    terminals = [threading.Thread(target=terminal, args=(table_no,)) for table_no in range(1, 9)]
    [t.start() for t in terminals]
    [t.join(timeout=120) for t in terminals]

    assert failures == []
    assert len(set(sales)) == 8 * 4
    assert len(owner.call("GET", "/sales/?limit=500")["sales"]) == 8 * 4
    # PgBouncer kept to its pool while more clients than that were connected to it.
    assert 0 < pool_figures["servers"] <= POOL_SIZE
    assert pool_figures["cl_active"] > POOL_SIZE


def test_the_transaction_bounds_reach_postgresql_through_pgbouncer_and_go_with_the_transaction(bouncer):
    settings = settings_for_tests("order", bouncer.url)
    engine = create_engine(normalise_database_url(bouncer.url), **engine_options(settings))
    bound_every_transaction(engine, settings)
    try:
        with engine.begin() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "5s"
            assert connection.execute(text("SHOW idle_in_transaction_session_timeout")).scalar() == "10s"
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # Outside a transaction the server connection has its own defaults: nothing leaked to other clients.
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "0"
    finally:
        engine.dispose()
