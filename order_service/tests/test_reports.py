import datetime
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from sqlalchemy import event

from order_service.app.models import db
from salesync_common.contracts.orders import ItemDayReport
from testsupport import aggregates
from testsupport.postgres import libpq_url

from .test_orders import order
from .test_payment_close import from_sale


def pay_at(client, headers, database_url, table_no, lines, paid_at, sale_id):
    """Place and pay an order, then set its payment instant (UTC) for the report."""
    order_id = order(client, headers, table_no, lines).get_json()["order_id"]
    total = client.get(f"/internal/orders/{order_id}", headers=headers).get_json()["total_price"]
    assert client.post(f"/internal/orders/{order_id}/pay", json={"sale_id": sale_id, "total_price": total},
                       headers={**headers, **from_sale()}).status_code == 200
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute('UPDATE "order".orders SET paid_at = %s WHERE order_id = %s', (paid_at, order_id))
    aggregates.recount(database_url, order_ids=[order_id])
    return order_id


def item_days(response) -> list[dict]:
    """The report as one line per business day and item (date, item_id, name, quantity, sales_volume), by day
    then item, once checked against the contract's model, as the dashboard checks it."""
    report = ItemDayReport.model_validate_json(response.data)
    start = datetime.date.fromisoformat(report.start)
    lines = [{"date": (start + datetime.timedelta(days=day)).isoformat(), "item_id": series.item_id,
              "name": series.name, "quantity": quantity, "sales_volume": sales_volume}
             for series in report.items
             for day, quantity, sales_volume in zip(series.days, series.quantities, series.sales_volumes, strict=True)]
    return sorted(lines, key=lambda line: (line["date"], line["item_id"]))


@pytest.fixture
def paid_orders(client, shop, database_url):
    headers, items = shop
    latte, coffee = items["카페라떼"], items["아메리카노"]
    # 2024-01-25 14:30 UTC is 23:30 in Seoul; 15:30 UTC is already 00:30 on the 26th.
    pay_at(client, headers, database_url, 1, [(coffee, 2)], "2024-01-25 14:30:00+00", 101)
    pay_at(client, headers, database_url, 2, [(coffee, 1), (latte, 1)], "2024-01-25 15:30:00+00", 102)
    pay_at(client, headers, database_url, 3, [(latte, 3)], "2024-01-27 03:00:00+00", 103)
    order(client, headers, 4, [(coffee, 10)])  # open: never counted
    order(client, headers, 5, [(coffee, 10)])
    client.delete("/orders/5", headers=headers)  # cancelled: never counted
    return headers, items


def test_item_day_totals_count_paid_orders_only_on_the_stores_business_days(client, paid_orders):
    headers, items = paid_orders
    coffee, latte = items["아메리카노"], items["카페라떼"]
    response = client.get("/internal/reports/item-days?start=2024-01-25&end=2024-01-31", headers=headers)
    # PostgreSQL writes this body: it must be the contract's shape, which the dashboard checks strictly.
    assert [(line["date"], line["item_id"], line["quantity"], line["sales_volume"]) for line in item_days(response)] \
        == [("2024-01-25", coffee, 2, 9000), ("2024-01-26", coffee, 1, 4500), ("2024-01-26", latte, 1, 5000),
            ("2024-01-27", latte, 3, 15000)]


def test_item_days_come_per_item_as_columns_counted_from_the_start_under_the_last_name(client, paid_orders,
                                                                                     database_url):
    headers, items = paid_orders
    coffee, latte = items["아메리카노"], items["카페라떼"]
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute('UPDATE "order".item_days SET item_name = %s WHERE item_id = %s AND business_day = %s',
                       ("라떼 (구)", latte, "2024-01-26"))  # sold under an older name first

    body = client.get("/internal/reports/item-days?start=2024-01-24&end=2024-01-31", headers=headers).get_json()

    assert body == {"start": "2024-01-24", "items": sorted([
        {"item_id": coffee, "name": "아메리카노", "days": [1, 2], "quantities": [2, 1], "sales_volumes": [9000, 4500]},
        {"item_id": latte, "name": "카페라떼", "days": [2, 3], "quantities": [1, 3], "sales_volumes": [5000, 15000]},
    ], key=lambda item: item["item_id"])}
    assert client.get("/internal/reports/item-days?start=2024-02-01&end=2024-02-02", headers=headers).get_json() \
        == {"start": "2024-02-01", "items": []}


def test_item_day_totals_split_by_business_day(client, paid_orders):
    headers, items = paid_orders
    lines = item_days(client.get("/internal/reports/item-days?start=2024-01-26&end=2024-01-26", headers=headers))
    assert lines == [
        {"date": "2024-01-26", "item_id": items["아메리카노"], "name": "아메리카노", "quantity": 1,
         "sales_volume": 4500},
        {"date": "2024-01-26", "item_id": items["카페라떼"], "name": "카페라떼", "quantity": 1, "sales_volume": 5000},
    ]


def test_another_time_zone_moves_the_day_boundary(client, new_store, build_menu, database_url):
    _, headers = new_store(time_zone="America/New_York")
    items = build_menu(headers)
    # 03:00 UTC on the 27th is still the evening of the 26th in New York.
    pay_at(client, headers, database_url, 1, [(items["아메리카노"], 1)], "2024-01-27 03:00:00+00", 201)
    lines = item_days(client.get("/internal/reports/item-days?start=2024-01-26&end=2024-01-27", headers=headers))
    assert [(line["date"], line["sales_volume"]) for line in lines] == [("2024-01-26", 4500)]


@pytest.mark.parametrize("query,field", [
    ("", "start"), ("?start=2024-01-01", "end"), ("?start=2024-1-1&end=2024-01-02", "start"),
    ("?start=2024-01-05&end=2024-01-01", "end"), ("?start=2023-01-01&end=2024-12-31", "end"),
    ("?start=yesterday&end=2024-01-01", "start"), ("?start=2024-W01-1&end=2024-01-02", "start"),
])
def test_a_bad_period_is_a_400_naming_the_date(client, shop, query, field):
    headers, _ = shop
    response = client.get("/internal/reports/item-days" + query, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


@pytest.fixture
def line_reads(app):
    """The statements the app runs that read order lines."""
    seen = []

    def count(conn, cursor, statement, *_):
        if "order_lines" in statement:
            seen.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        yield seen
        event.remove(db.engine, "before_cursor_execute", count)


def test_a_report_reads_the_item_days_not_the_lines_and_shows_a_payment_at_once(client, shop, database_url,
                                                                                line_reads):
    headers, items = shop
    today = datetime.datetime.now(ZoneInfo("Asia/Seoul")).date()
    week = f"start={today - datetime.timedelta(days=6)}&end={today}"
    two_days_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2)
    pay_at(client, headers, database_url, 1, [(items["아메리카노"], 2)], two_days_ago.isoformat(), 301)

    first = item_days(client.get(f"/internal/reports/item-days?{week}", headers=headers))
    order_id = order(client, headers, 2, [(items["카페라떼"], 1)]).get_json()["order_id"]
    client.post(f"/internal/orders/{order_id}/pay", json={"sale_id": 302, "total_price": 5000},
                headers={**headers, **from_sale()})
    line_reads.clear()  # placing and paying read lines; the report must not
    second = item_days(client.get(f"/internal/reports/item-days?{week}", headers=headers))

    assert [(line["name"], line["quantity"]) for line in first] == [("아메리카노", 2)]
    assert [(line["date"], line["name"], line["quantity"]) for line in second] == [
        (first[0]["date"], "아메리카노", 2), (today.isoformat(), "카페라떼", 1)]  # today's payment at once
    assert line_reads == []
