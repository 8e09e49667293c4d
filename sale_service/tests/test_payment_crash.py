"""The atomic payment, proven by killing the sale service between its steps.

Failure points covered (salesync_common.failpoints, os._exit like kill -9):
- sale.after_pending_sale: the pending sale is committed, the table is still open;
- sale.after_order_closed: the order service closed the table for the sale, the sale is not yet completed.
In both, the reconciler (or the customer's retry) finishes the payment: one sale, table closed.
"""
import datetime
import time

import psycopg2
import pytest
import requests
from sqlalchemy import select

from sale_service.app import payments
from sale_service.app.models import Sale, db
from sale_service.app.reconciler import reconcile_pending
from salesync_common import idempotency
from testsupport.postgres import libpq_url
from testsupport.served import ServiceProcess
from testsupport.settings import TEST_JWT_SECRET, service_headers

from .test_payments import pay, sales


@pytest.fixture
def crashing_sale_service(database_url, urls, app):
    """Start a real sale service process that dies at the given failpoint."""
    started = []

    def _start(failpoint, **extra_env):
        env = {"SALESYNC_FAILPOINTS": failpoint, "SALESYNC_RECONCILE_SECONDS": "0",
               **{f"{name.upper()}_SERVICE_URL": url for name, url in urls.items()}, **extra_env}
        server = ServiceProcess("sale", database_url, env=env)
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


def crash_while_paying(server, terminal, table_no, total, *, key=None, payment_type="카드"):
    headers = {**terminal.headers, **service_headers("sale"), **({"Idempotency-Key": key} if key else {})}
    with pytest.raises(requests.ConnectionError):
        requests.post(server.url + "/sales/",
                      json={"table_no": table_no, "payment_type": payment_type, "total_price": total},
                      headers=headers, timeout=10)


def _sales_of(app, order_id):
    with app.app_context():
        rows = db.session.scalars(select(Sale).where(Sale.order_id == order_id)).all()
        db.session.remove()
        return rows


def sale_rows(app, order_id):
    return [(row.status, row.total_price) for row in _sales_of(app, order_id)]


def order_status(terminal, order_id):
    return requests.get(f"{terminal.urls['order']}/internal/orders/{order_id}",
                        headers={**terminal.headers, **service_headers("order", "sale")}, timeout=10).json()["status"]


def reconcile(app):
    with app.app_context():
        outcome = reconcile_pending(session=db.session, client=app.extensions["salesync_client"],
                                    jwt_secret=TEST_JWT_SECRET, older_than=datetime.timedelta(0))
        db.session.remove()
        return outcome


@pytest.mark.parametrize("failpoint,status_after_crash", [("sale.after_pending_sale", "open"),
                                                          ("sale.after_order_closed", "paid")])
def test_a_payment_cut_off_by_a_crash_is_finished_by_the_reconciler(
        app, client, pos, crashing_sale_service, failpoint, status_after_crash):
    terminal = pos()
    order = terminal.order(5, 김치찌개=2)

    crash_while_paying(crashing_sale_service(failpoint), terminal, 5, 18000)

    assert sale_rows(app, order["order_id"]) == [("pending", 18000)]
    assert order_status(terminal, order["order_id"]) == status_after_crash
    assert sales(client, terminal) == []  # a pending sale is not revenue yet

    assert reconcile(app) == {"completed": 1, "failed": 0, "still_pending": 0}

    assert sale_rows(app, order["order_id"]) == [("completed", 18000)]
    assert order_status(terminal, order["order_id"]) == "paid"
    assert terminal.table(5)["carts"] == []
    assert [s["total_price"] for s in sales(client, terminal)] == [18000]
    assert reconcile(app) == {"completed": 0, "failed": 0, "still_pending": 0}


def test_the_cashiers_retry_after_a_crash_finishes_the_same_sale(app, client, pos, crashing_sale_service,
                                                                monkeypatch):
    terminal = pos()
    order = terminal.order(2, 제육볶음=1)
    crash_while_paying(crashing_sale_service("sale.after_pending_sale"), terminal, 2, 11000)
    # Right away, the pending sale may still be its creator's to finish: the retry is asked to wait.
    monkeypatch.setattr(payments, "CREATOR_GRACE", datetime.timedelta(hours=1))
    too_soon = pay(client, terminal, 2, 11000)
    assert (too_soon.status_code, too_soon.get_json()["error"]) == (409, "payment_in_progress")
    monkeypatch.setattr(payments, "CREATOR_GRACE", datetime.timedelta(0))  # a moment later

    retry = pay(client, terminal, 2, 11000)

    assert retry.status_code == 201
    assert sale_rows(app, order["order_id"]) == [("completed", 11000)]
    assert [s["id"] for s in sales(client, terminal)] == [retry.get_json()["id"]]


def test_a_retry_with_its_key_right_after_a_crash_finishes_the_sale_without_waiting_for_the_key(
        app, client, pos, crashing_sale_service, monkeypatch):
    # The key was committed with the pending sale; the cashier must not be told "in progress" for
    # ABANDONED_AFTER (30 s) by a request that is dead. Only the creator's grace holds the retry back.
    monkeypatch.setattr(idempotency, "ABANDONED_AFTER", datetime.timedelta(hours=1))
    terminal = pos()
    order = terminal.order(6, 제육볶음=1)
    server = crashing_sale_service("sale.after_pending_sale")
    crash_while_paying(server, terminal, 6, 11000, key="pos-2-pay-9", payment_type="현금")
    monkeypatch.setattr(payments, "CREATOR_GRACE", datetime.timedelta(hours=1))
    too_soon = pay(client, terminal, 6, 11000, payment_type="현금", key="pos-2-pay-9")
    assert (too_soon.status_code, too_soon.get_json()["error"]) == (409, "payment_in_progress")
    monkeypatch.setattr(payments, "CREATOR_GRACE", datetime.timedelta(0))  # the creator's grace is over

    retry = pay(client, terminal, 6, 11000, payment_type="현금", key="pos-2-pay-9")

    assert retry.status_code == 201, retry.get_json()
    assert retry.get_json()["order_id"] == order["order_id"]
    assert sale_rows(app, order["order_id"]) == [("completed", 11000)]
    assert order_status(terminal, order["order_id"]) == "paid"
    replay = pay(client, terminal, 6, 11000, payment_type="현금", key="pos-2-pay-9")
    assert replay.get_json() == retry.get_json() and replay.headers["Idempotent-Replayed"] == "true"


def key_rows(database_url, key):
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT response_status FROM sale.idempotency_keys WHERE key = %s", (key,))
        return [row[0] for row in cursor.fetchall()]


def test_a_retry_refused_while_the_first_request_holds_the_sale_keeps_that_requests_key(
        app, client, pos, crashing_sale_service, database_url, monkeypatch):
    terminal = pos()
    order = terminal.order(8, 김치찌개=1)
    crash_while_paying(crashing_sale_service("sale.after_pending_sale"), terminal, 8, 9000, key="pos-4-pay-1")
    monkeypatch.setattr(payments, "CREATOR_GRACE", datetime.timedelta(0))
    [sale] = _sales_of(app, order["order_id"])
    sale_id = sale.sale_id
    # Someone alive holds the pending sale (as its first request would, while it closes the table).
    with psycopg2.connect(libpq_url(database_url)) as holder, holder.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sale.sales WHERE sale_id = %s FOR UPDATE", (sale_id,))

        refused = pay(client, terminal, 8, 9000, key="pos-4-pay-1")

        assert (refused.status_code, refused.get_json()["error"]) == (409, "payment_in_progress")
        # The key still belongs to its first request: it can record its answer, and the key stays
        # bound to this payment (another body with it is a 422, not a payment).
        assert key_rows(database_url, "pos-4-pay-1") == [None]
        other = pay(client, terminal, 3, 1000, key="pos-4-pay-1")
        assert (other.status_code, other.get_json()["error"]) == (422, "idempotency_key_reused")
        holder.rollback()

    retry = pay(client, terminal, 8, 9000, key="pos-4-pay-1")
    assert retry.status_code == 201 and retry.get_json()["id"] == sale_id


def test_a_key_whose_record_is_gone_still_cannot_pay_another_table_with_its_sale(
        app, client, pos, crashing_sale_service, database_url, monkeypatch):
    terminal = pos()
    terminal.order(9, 김치찌개=1)
    terminal.order(10, 공기밥=1)
    crash_while_paying(crashing_sale_service("sale.after_pending_sale"), terminal, 9, 9000, key="pos-5-pay-1")
    monkeypatch.setattr(payments, "CREATOR_GRACE", datetime.timedelta(0))
    # As after a first request that failed on its own after committing its pending sale: it forgot its key.
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("DELETE FROM sale.idempotency_keys WHERE key = %s", ("pos-5-pay-1",))

    other = pay(client, terminal, 10, 1000, key="pos-5-pay-1")

    assert (other.status_code, other.get_json()["error"]) == (422, "idempotency_key_reused")
    assert terminal.table(10)["carts"] != []  # table 10 is still open: nobody was told it is paid


def test_a_keyed_payments_grace_counts_from_its_pending_sale_not_from_its_order_lookup(app, client, pos,
                                                                                     database_url):
    terminal = pos()
    order = terminal.order(11, 공기밥=2)
    assert pay(client, terminal, 11, 2000, key="pos-6-pay-1").status_code == 201
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT s.created_at > k.created_at FROM sale.sales s JOIN sale.idempotency_keys k "
                       "ON k.key = s.idempotency_key WHERE s.order_id = %s", (order["order_id"],))
        # The key row is stamped when the request began; the sale after the order service answered.
        assert cursor.fetchone() == (True,)


def in_flight(server) -> float:
    """http_requests_in_flight summed over its series, as Prometheus would add them up."""
    text = requests.get(server.url + "/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("http_requests_in_flight{"))


def test_a_worker_killed_mid_payment_is_not_counted_in_flight_afterwards(pos, crashing_sale_service, tmp_path):
    # As in the images: gunicorn workers share a metrics directory.
    server = crashing_sale_service("sale.after_pending_sale", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    assert in_flight(server) == 1  # the scrape itself
    terminal = pos()
    terminal.order(7, 공기밥=1)

    crash_while_paying(server, terminal, 7, 1000)

    for _ in range(50):  # gunicorn starts a new worker
        try:
            assert in_flight(server) == 1
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    else:
        pytest.fail("the sale service did not come back")


def test_a_pending_payment_whose_order_was_cancelled_is_voided(app, client, pos, crashing_sale_service):
    terminal = pos()
    order = terminal.order(3, 공기밥=4)
    crash_while_paying(crashing_sale_service("sale.after_pending_sale"), terminal, 3, 4000)
    requests.delete(f"{terminal.urls['order']}/orders/3", headers={**terminal.headers, **service_headers("order")},
                    timeout=10)

    assert reconcile(app) == {"completed": 0, "failed": 1, "still_pending": 0}

    assert sale_rows(app, order["order_id"]) == [("failed", 4000)]
    assert sales(client, terminal) == []
    assert order_status(terminal, order["order_id"]) == "cancelled"


def test_a_retry_with_its_key_after_the_reconciler_finished_the_sale_is_told_of_that_sale(
        app, client, pos, crashing_sale_service):
    terminal = pos()
    order = terminal.order(4, 제육볶음=2)
    server = crashing_sale_service("sale.after_pending_sale")
    crash_while_paying(server, terminal, 4, 22000, key="pos-7-pay-41")
    assert reconcile(app) == {"completed": 1, "failed": 0, "still_pending": 0}
    # The table is closed now; the key's first request is dead.

    retry = pay(client, terminal, 4, 22000, key="pos-7-pay-41")

    assert retry.status_code == 201, retry.get_json()
    assert retry.get_json()["order_id"] == order["order_id"]
    assert sale_rows(app, order["order_id"]) == [("completed", 22000)]
    assert [s["id"] for s in sales(client, terminal)] == [retry.get_json()["id"]]
    replay = pay(client, terminal, 4, 22000, key="pos-7-pay-41")
    assert replay.get_json() == retry.get_json() and replay.headers["Idempotent-Replayed"] == "true"
    # Without the key, the same request is a payment of a table with nothing open.
    assert pay(client, terminal, 4, 22000).status_code == 404
