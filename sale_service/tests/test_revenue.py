import datetime
import zoneinfo

import psycopg2
import pytest

from testsupport import aggregates
from testsupport.postgres import libpq_url

from .test_payments import pay, sales


def today(zone="Asia/Seoul"):
    return datetime.datetime.now(zoneinfo.ZoneInfo(zone)).date()


def daily(client, pos, day):
    return client.get(f"/sales/daily?date={day.isoformat()}", headers=pos.headers).get_json()


def test_revenue_of_the_day_is_the_sum_of_its_payments_to_the_won(client, pos):
    terminal = pos()
    expected = 0
    for table_no, dishes in enumerate([{"김치찌개": 1}, {"제육볶음": 2, "공기밥": 2}, {"공기밥": 7}, {"김치찌개": 3}]):
        order = terminal.order(table_no, **dishes)
        pay(client, terminal, table_no, order["total_price"], "현금" if table_no % 2 else "카드")
        expected += order["total_price"]

    body = daily(client, terminal, today())

    assert body["sales_volume"] == expected == 9000 + 24000 + 7000 + 27000
    assert body["payments"] == 4 and body["refunds"] == 0
    assert body["card_total"] == 9000 + 7000 and body["cash_total"] == 24000 + 27000
    assert body["date"] == today().isoformat()
    assert sum(s["total_price"] for s in sales(client, terminal)) == expected


def test_a_period_lists_every_day_and_totals_them(client, pos, database_url):
    terminal = pos()
    for table_no in (1, 2, 3):
        terminal.order(table_no, 김치찌개=table_no)
        pay(client, terminal, table_no, 9000 * table_no)
    # Move two payments to earlier business days (Seoul): 2024-03-01 23:59 and 2024-03-02 00:01.
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("UPDATE sale.sales SET completed_at = %s WHERE total_price = 9000", ("2024-03-01 14:59:00+00",))
        cursor.execute("UPDATE sale.sales SET completed_at = %s WHERE total_price = 18000", ("2024-03-01 15:01:00+00",))
    aggregates.recount(database_url, store_ids=[terminal.store_id])

    body = client.get("/sales/period?start=2024-03-01&end=2024-03-03", headers=terminal.headers).get_json()

    assert body["days"] == [
        {"date": "2024-03-01", "sales_volume": 9000, "payments": 1, "refunds": 0, "cash_total": 0, "card_total": 9000},
        {"date": "2024-03-02", "sales_volume": 18000, "payments": 1, "refunds": 0, "cash_total": 0,
         "card_total": 18000},
        {"date": "2024-03-03", "sales_volume": 0, "payments": 0, "refunds": 0, "cash_total": 0, "card_total": 0},
    ]
    assert body["sales_volume"] == 27000
    assert body["start_date"] == "2024-03-01" and body["end_date"] == "2024-03-03"


def test_a_refund_is_negative_revenue_on_its_day_and_reopens_nothing(client, pos, database_url):
    terminal = pos()
    terminal.order(1, 제육볶음=1)
    sale_id = pay(client, terminal, 1, 11000).get_json()["id"]
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("UPDATE sale.sales SET completed_at = now() - interval '3 days' WHERE sale_id = %s", (sale_id,))
    aggregates.recount(database_url, store_ids=[terminal.store_id])

    refunded = client.delete(f"/sales/{sale_id}", headers=terminal.headers)

    assert refunded.status_code == 200
    assert refunded.get_json()["result"] == "success" and refunded.get_json()["amount"] == 11000
    assert daily(client, terminal, today())["sales_volume"] == -11000
    assert daily(client, terminal, today())["refunds"] == 11000
    assert daily(client, terminal, today())["card_total"] == -11000
    assert daily(client, terminal, today() - datetime.timedelta(days=3))["sales_volume"] == 11000
    assert terminal.table(1)["carts"] == []
    assert sales(client, terminal)[0]["refunded_at"] is not None


def test_a_sale_is_refunded_once(client, pos):
    terminal = pos()
    terminal.order(1, 공기밥=1)
    sale_id = pay(client, terminal, 1, 1000).get_json()["id"]
    client.delete(f"/sales/{sale_id}", headers=terminal.headers)

    again = client.delete(f"/sales/{sale_id}", headers=terminal.headers)

    assert again.status_code == 409 and again.get_json()["error"] == "already_refunded"
    assert daily(client, terminal, today())["sales_volume"] == 0


def test_refunding_an_unknown_sale_is_a_404(client, pos):
    terminal = pos()
    assert client.delete("/sales/999999", headers=terminal.headers).status_code == 404
    assert client.delete("/sales/99999999999", headers=terminal.headers).status_code == 404


def test_revenue_follows_the_stores_time_zone(client, pos, database_url):
    terminal = pos(time_zone="America/New_York")
    terminal.order(1, 공기밥=5)
    pay(client, terminal, 1, 5000)
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("UPDATE sale.sales SET completed_at = '2024-06-02 02:00:00+00' WHERE total_price = 5000")
    aggregates.recount(database_url, store_ids=[terminal.store_id])
    body = client.get("/sales/period?start=2024-06-01&end=2024-06-02", headers=terminal.headers).get_json()
    assert [d["sales_volume"] for d in body["days"]] == [5000, 0]


@pytest.mark.parametrize("path,field", [("/sales/daily", "date"), ("/sales/daily?date=20240101", "date"),
                                        ("/sales/period?start=2024-01-01", "end"),
                                        ("/sales/period?start=2024-02-01&end=2024-01-01", "end"),
                                        # the last day of the calendar has no "day after": was a 500
                                        ("/sales/daily?date=9999-12-31", "date"),
                                        ("/sales/period?start=9999-12-31&end=9999-12-31", "start"),
                                        ("/sales/period?start=1899-12-31&end=1900-01-01", "start")])
def test_a_bad_date_is_a_400(client, pos, path, field):
    terminal = pos()
    response = client.get(path, headers=terminal.headers)
    assert response.status_code == 400 and response.get_json()["field"] == field
