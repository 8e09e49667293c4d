"""A payment and a refund ask the order service with no transaction open, except the one named hold:
the pending sale's row lock while the order service closes the table (unit.hold_across_call), which
PostgreSQL's idle-in-transaction timeout bounds."""
import pytest

from sale_service.app import create_app
from testsupport.call_watch import CallWatch
from testsupport.clients import CheckedClient
from testsupport.served import local_service_urls
from testsupport.settings import migrated_settings


@pytest.fixture(scope="module")
def order_watch(database_url, order_service):
    watch = CallWatch(order_service.server.app, database_url=database_url, caller="sale")
    yield watch
    watch.shutdown()


@pytest.fixture(scope="module")
def watched_app(database_url, store_service, item_service, order_watch):
    urls = local_service_urls(store=store_service, item=item_service, order=order_watch)
    app = create_app(migrated_settings("sale", database_url, service_urls=urls), reconcile_every=0)
    app.test_client_class = CheckedClient
    yield app
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def test_only_the_named_hold_spans_a_call_to_the_order_service(watched_app, order_watch, pos):
    terminal = pos()
    terminal.order(4, 김치찌개=1, 공기밥=1)
    client = watched_app.test_client()
    order_watch.seen.clear()

    paid = client.post("/sales/", json={"table_no": 4, "payment_type": "카드", "total_price": 10000},
                       headers={**terminal.headers, "Idempotency-Key": "pay-4"})
    assert paid.status_code == 201
    sale_id, order_id = paid.get_json()["id"], paid.get_json()["order_id"]
    assert client.delete(f"/sales/{sale_id}", headers=terminal.headers).status_code == 200

    assert [(method, path) for method, path, _ in order_watch.seen] == [
        ("GET", "/internal/orders/open/4"), ("POST", f"/internal/orders/{order_id}/pay"),
        ("GET", f"/internal/orders/{order_id}/lines")]
    assert order_watch.calls_in_transaction() == [("POST", f"/internal/orders/{order_id}/pay")]
