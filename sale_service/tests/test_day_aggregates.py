"""The revenue days and refund item days stay equal to the sales, refunds and refund lines they sum: payments
and refunds add to them in their own transaction, at once with each other, and one that fails adds nothing."""
import pathlib
import threading

import flask_migrate
from sqlalchemy import text

from sale_service.app import revenue
from sale_service.app.models import db

from .test_payments import pay

MIGRATIONS = pathlib.Path(revenue.__file__).resolve().parent.parent / "migrations"

# What the reports summed before the aggregates existed, on business days in Seoul.
REVENUE_FROM_SALES = text("""
    SELECT store_id, day, sum(payments), sum(cash), sum(card), sum(refunded) FROM (
        SELECT store_id, date(timezone('Asia/Seoul', completed_at)) AS day, 1 AS payments,
               CASE WHEN payment_method = 'cash' THEN total_price ELSE 0 END AS cash,
               CASE WHEN payment_method = 'card' THEN total_price ELSE 0 END AS card, 0 AS refunded
        FROM sale.sales WHERE status = 'completed'
        UNION ALL
        SELECT r.store_id, date(timezone('Asia/Seoul', r.created_at)), 0,
               CASE WHEN s.payment_method = 'cash' THEN -r.amount ELSE 0 END,
               CASE WHEN s.payment_method = 'card' THEN -r.amount ELSE 0 END, r.amount
        FROM sale.refunds r JOIN sale.sales s ON s.sale_id = r.sale_id) moves
    GROUP BY 1, 2 ORDER BY 1, 2""")
REVENUE_DAYS = text("""
    SELECT store_id, business_day, payments, paid_cash - refunded_cash, paid_card - refunded_card,
           refunded_cash + refunded_card
    FROM sale.revenue_days ORDER BY 1, 2""")
REFUNDS_FROM_LINES = text("""
    SELECT r.store_id, date(timezone('Asia/Seoul', r.created_at)), date(timezone('Asia/Seoul', r.order_paid_at)),
           l.item_id, sum(l.quantity), sum(l.quantity::bigint * l.unit_price)
    FROM sale.refunds r JOIN sale.refund_lines l ON l.refund_id = r.refund_id
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""")
REFUND_ITEM_DAYS = text("""
    SELECT store_id, business_day, sold_on, item_id, quantity, sales_volume FROM sale.refund_item_days
    ORDER BY 1, 2, 3, 4""")


def rows(app, query):
    with app.app_context():
        found = [tuple(row) for row in db.session.execute(query)]
        db.session.remove()
        return found


def sell(client, terminal, table_no, payment_type="카드", **dishes):
    order = terminal.order(table_no, **dishes)
    response = pay(client, terminal, table_no, order["total_price"], payment_type)
    assert response.status_code == 201
    return response.get_json()["id"]


def test_the_aggregates_are_the_sums_of_the_sales_refunds_and_their_lines(app, client, pos):
    terminal, other = pos(), pos()
    first = sell(client, terminal, 1, "현금", 김치찌개=2, 공기밥=2)
    second = sell(client, terminal, 2, "카드", 제육볶음=1, 공기밥=1)
    sell(client, terminal, 3, "카드", 김치찌개=1)
    sell(client, other, 1, "현금", 제육볶음=3)
    terminal.order(4, 김치찌개=5)  # ordered, never paid
    refused = pay(client, terminal, 4, 1)  # a payment of the wrong total is refused
    assert refused.status_code == 409
    for sale_id in (first, second):
        assert client.delete(f"/sales/{sale_id}", headers=terminal.headers).status_code == 200
    assert client.delete(f"/sales/{first}", headers=terminal.headers).status_code == 409  # refunded once

    revenue_days = rows(app, REVENUE_DAYS)
    assert revenue_days == rows(app, REVENUE_FROM_SALES)
    assert [row[2:] for row in revenue_days] == [(3, 0, 9000, 32000), (1, 33000, 0, 0)]
    assert rows(app, REFUND_ITEM_DAYS) == rows(app, REFUNDS_FROM_LINES)
    assert sorted(row[4] for row in rows(app, REFUND_ITEM_DAYS)) == [1, 2, 3]  # 김치찌개 2, 제육 1, 공기밥 2+1


def test_payments_of_one_store_at_once_all_count(app, pos):
    terminal = pos()
    tables = range(1, 9)
    for table_no in tables:
        terminal.order(table_no, 공기밥=table_no)
    barrier = threading.Barrier(len(tables))
    statuses = []

    def attempt(table_no):
        client = app.test_client()
        barrier.wait()
        statuses.append(pay(client, terminal, table_no, 1000 * table_no, "현금" if table_no % 2 else "카드")
                        .status_code)

    threads = [threading.Thread(target=attempt, args=(table_no,)) for table_no in tables]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]

    assert statuses == [201] * 8
    assert [row[2:] for row in rows(app, REVENUE_DAYS)] == [(8, 16000, 20000, 0)]


def test_the_backfill_gives_the_reports_of_the_rows(app, client, pos):
    terminal = pos()
    sale_id = sell(client, terminal, 1, "현금", 김치찌개=1, 공기밥=3)
    sell(client, terminal, 2, "카드", 제육볶음=2)
    client.delete(f"/sales/{sale_id}", headers=terminal.headers)
    day = rows(app, text("SELECT max(business_day) FROM sale.revenue_days"))[0][0].isoformat()
    reports = (f"/sales/period?start={day}&end={day}", f"/internal/reports/refund-item-days?start={day}&end={day}")
    before = [client.get(path, headers=terminal.headers).get_json() for path in reports]

    with app.app_context():
        flask_migrate.downgrade(directory=str(MIGRATIONS), revision="0004_sales_page_index")
        flask_migrate.upgrade(directory=str(MIGRATIONS))

    assert [client.get(path, headers=terminal.headers).get_json() for path in reports] == before
    assert before[0]["sales_volume"] == 22000 and len(before[1]["lines"]) == 2
    assert rows(app, REVENUE_DAYS) == rows(app, REVENUE_FROM_SALES)
    assert rows(app, REFUND_ITEM_DAYS) == rows(app, REFUNDS_FROM_LINES)
