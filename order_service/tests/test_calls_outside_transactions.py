"""An order placed or changed asks the item service for prices with no transaction open: its database
connection is back in the pool while the item service answers (the POS's connection budget, and
PgBouncer's transaction pooling, count on it)."""
import threading

import pytest

from order_service.app import create_app
from testsupport.call_watch import CallWatch
from testsupport.clients import CheckedClient
from testsupport.served import local_service_urls
from testsupport.settings import migrated_settings


@pytest.fixture(scope="module")
def item_watch(database_url, item_service):
    watch = CallWatch(item_service.server.app, database_url=database_url, caller="order")
    yield watch
    watch.shutdown()


@pytest.fixture(scope="module")
def watched_app(database_url, store_service, item_watch):
    """The order service with one database connection, calling the item service through the watch."""
    settings = migrated_settings("order", database_url, db_pool_size=1, db_max_overflow=0, db_pool_timeout_ms=500,
                                 service_urls=local_service_urls(store=store_service, item=item_watch))
    app = create_app(settings)
    app.test_client_class = CheckedClient
    yield app
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def place(client, headers, table_no, carts, method="POST", key=None):
    return client.open("/orders/", method=method, json={"table_no": table_no, "carts": carts},
                       headers={**headers, **({"Idempotency-Key": key} if key else {})})


def test_orders_ask_for_prices_outside_any_transaction(watched_app, item_watch, shop):
    headers, items = shop
    client = watched_app.test_client()
    item_watch.seen.clear()
    assert place(client, headers, 1, [{"item_id": items["아메리카노"], "quantity": 1}], key="o-1").status_code == 200
    assert place(client, headers, 2, [{"item_id": items["카페라떼"], "quantity": 1}]).status_code == 200
    changed = place(client, headers, 1, [{"item_id": items["아메리카노"], "quantity": 1},
                                         {"item_id": items["치즈케이크"], "quantity": 2}], method="PUT", key="o-2")
    assert changed.status_code == 200 and changed.get_json()["total_price"] == 4500 + 2 * 6500
    assert place(client, headers, 2, [{"item_id": items["치즈케이크"], "quantity": 1}], method="PUT").status_code == 200

    assert len(item_watch.seen) == 4
    assert item_watch.calls_in_transaction() == []


def test_a_slow_item_service_does_not_hold_the_order_services_connection(watched_app, item_watch, shop):
    """One connection in the pool: while a keyed order waits for a slow item service, the POS's other
    requests to the order service are still answered."""
    headers, items = shop
    item_watch.arrived.clear()
    item_watch.release.clear()
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(place(
        watched_app.test_client(), headers, 3, [{"item_id": items["아메리카노"], "quantity": 2}], key="slow")))
    waiting.start()
    try:
        assert item_watch.arrived.wait(timeout=10)
        meanwhile = watched_app.test_client().get("/orders/unpaids", headers=headers)
    finally:
        item_watch.release.set()
        waiting.join(timeout=15)
    assert meanwhile.status_code == 200
    assert answers[0].status_code == 200 and answers[0].get_json()["total_price"] == 9000
