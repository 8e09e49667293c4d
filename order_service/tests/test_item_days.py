"""The item-day aggregate stays equal to the paid order lines: payments add to it in their own transaction,
at once with each other, and a payment that does not happen adds nothing."""
import pathlib
import threading
import time
import zoneinfo

import flask_migrate
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from order_service.app import orders
from order_service.app.models import db

from .test_orders import order
from .test_payment_close import from_sale
from .test_reports import item_days, pay_at

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
MIGRATIONS = pathlib.Path(orders.__file__).resolve().parent.parent / "migrations"

# What the reports summed before the aggregate existed: every paid line, on its business day in Seoul.
FROM_LINES = text("""
    SELECT date(timezone('Asia/Seoul', o.paid_at)), l.item_id, sum(l.quantity), sum(l.quantity::bigint * l.unit_price)
    FROM "order".orders o JOIN "order".order_lines l ON l.order_id = o.order_id
    WHERE o.status = 'paid' GROUP BY 1, 2 ORDER BY 1, 2""")
AGGREGATE = text('SELECT business_day, item_id, quantity, sales_volume FROM "order".item_days ORDER BY 1, 2')


@pytest.fixture
def own_shop(new_store, build_menu):
    """A store with a menu, and its id for calls below HTTP: (store_id, headers, item ids by name)."""
    store_id, headers = new_store()
    return store_id, headers, build_menu(headers)


def rows(app, query):
    with app.app_context():
        found = [tuple(row) for row in db.session.execute(query)]
        db.session.remove()
        return found


def paid(client, headers, table_no, lines, sale_id, expect=200):
    order_id = order(client, headers, table_no, lines).get_json()["order_id"]
    total = client.get(f"/internal/orders/{order_id}", headers=headers).get_json()["total_price"]
    response = client.post(f"/internal/orders/{order_id}/pay", json={"sale_id": sale_id, "total_price": total},
                           headers={**headers, **from_sale()})
    assert response.status_code == expect
    return order_id


def test_the_aggregate_is_the_sum_of_the_paid_lines_after_payments_changes_and_cancellations(app, client, shop):
    headers, items = shop
    coffee, latte, cake = items["아메리카노"], items["카페라떼"], items["치즈케이크"]
    paid(client, headers, 1, [(coffee, 2), (latte, 1)], 501)
    paid(client, headers, 2, [(coffee, 3)], 502)
    order(client, headers, 3, [(cake, 4)])
    order(client, headers, 3, [(cake, 1), (latte, 2)], method="PUT")  # changed before it is paid
    total = client.get("/orders/unpaids/3", headers=headers).get_json()["total_price"]
    order_id = client.get("/internal/orders/open/3", headers=headers).get_json()["order_id"]
    client.post(f"/internal/orders/{order_id}/pay", json={"sale_id": 503, "total_price": total},
                headers={**headers, **from_sale()})
    order(client, headers, 4, [(cake, 9)])
    client.delete("/orders/4", headers=headers)  # cancelled: never counted
    order(client, headers, 5, [(coffee, 7)])  # still open: not yet counted

    aggregate = rows(app, AGGREGATE)
    assert aggregate == rows(app, FROM_LINES)
    assert {item_id: quantity for _, item_id, quantity, _ in aggregate} == {coffee: 5, latte: 3, cake: 1}


def test_paying_again_for_the_same_sale_counts_once(app, client, shop):
    headers, items = shop
    order_id = paid(client, headers, 1, [(items["아메리카노"], 2)], 601)
    again = client.post(f"/internal/orders/{order_id}/pay", json={"sale_id": 601, "total_price": 9000},
                        headers={**headers, **from_sale()})
    assert again.status_code == 200
    assert [row[2:] for row in rows(app, AGGREGATE)] == [(2, 9000)]


def test_many_payments_of_one_item_at_once_all_count(app, shop):
    headers, items = shop
    client = app.test_client()
    order_ids = [order(client, headers, table_no, [(items["아메리카노"], table_no)]).get_json()["order_id"]
                 for table_no in range(1, 9)]
    barrier = threading.Barrier(len(order_ids))
    statuses = []

    def pay(table_no, order_id):
        terminal = app.test_client()
        barrier.wait()
        statuses.append(terminal.post(f"/internal/orders/{order_id}/pay",
                                      json={"sale_id": 700 + table_no, "total_price": 4500 * table_no},
                                      headers={**headers, **from_sale()}).status_code)

    threads = [threading.Thread(target=pay, args=pair) for pair in enumerate(order_ids, start=1)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]

    assert statuses == [200] * 8
    assert [row[2:] for row in rows(app, AGGREGATE)] == [(36, 36 * 4500)]


def test_a_payment_waiting_on_another_of_the_same_item_and_day_adds_to_it(app, own_shop):
    """Two connections: the second payment's upsert waits for the first's row, then adds to what it committed."""
    store_id, headers, items = own_shop
    client = app.test_client()
    first, second = (order(client, headers, table_no, [(items["카페라떼"], table_no)]).get_json()["order_id"]
                     for table_no in (1, 2))
    with app.app_context():
        holding, waiting = Session(db.engine), Session(db.engine)
        orders.mark_paid(session=holding, store_id=store_id, order_id=first, sale_id=801, total_price=5000,
                         zone=SEOUL)
        thread = threading.Thread(target=lambda: (orders.mark_paid(
            session=waiting, store_id=store_id, order_id=second, sale_id=802, total_price=10000, zone=SEOUL),
            waiting.commit()))
        thread.start()
        deadline = time.monotonic() + 10
        while not rows(app, text("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND query LIKE '%item_days%'")):
            assert time.monotonic() < deadline, "the second payment never waited for the first"
            time.sleep(0.05)
        holding.commit()
        thread.join(10)
        holding.close()
        waiting.close()

    assert [row[2:] for row in rows(app, AGGREGATE)] == [(3, 15000)]


def test_a_payment_rolled_back_leaves_the_aggregate_unchanged(app, client, own_shop):
    store_id, headers, items = own_shop
    paid(client, headers, 1, [(items["아메리카노"], 1)], 901)
    before = rows(app, AGGREGATE)
    order_id = order(client, headers, 2, [(items["아메리카노"], 2)]).get_json()["order_id"]
    with app.app_context(), Session(db.engine) as session:
        orders.mark_paid(session=session, store_id=store_id, order_id=order_id, sale_id=902,
                         total_price=9000, zone=SEOUL)
        session.rollback()  # e.g. the response could not be written
    # A payment the order refuses (its total changed) counts nothing either.
    refused = client.post(f"/internal/orders/{order_id}/pay", json={"sale_id": 903, "total_price": 1},
                          headers={**headers, **from_sale()})
    assert refused.status_code == 409
    assert rows(app, AGGREGATE) == before


def test_the_backfill_gives_the_reports_of_the_lines(app, client, shop, database_url):
    headers, items = shop
    coffee, latte = items["아메리카노"], items["카페라떼"]
    pay_at(client, headers, database_url, 1, [(coffee, 2)], "2024-01-25 14:30:00+00", 101)
    pay_at(client, headers, database_url, 2, [(coffee, 1), (latte, 1)], "2024-01-25 15:30:00+00", 102)
    pay_at(client, headers, database_url, 3, [(latte, 3)], "2024-01-27 03:00:00+00", 103)
    period = "/internal/reports/item-days?start=2024-01-20&end=2024-01-31"
    before = item_days(client.get(period, headers=headers))

    with app.app_context():
        flask_migrate.downgrade(directory=str(MIGRATIONS), revision="0001")
        flask_migrate.upgrade(directory=str(MIGRATIONS))

    assert item_days(client.get(period, headers=headers)) == before
    assert rows(app, AGGREGATE) == rows(app, FROM_LINES)
    assert [(line["date"], line["quantity"]) for line in before] == [
        ("2024-01-25", 2), ("2024-01-26", 1), ("2024-01-26", 1), ("2024-01-27", 3)]
