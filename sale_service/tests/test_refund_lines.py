"""A refund keeps its order's lines, and reports them per business day of the refund for the dashboard."""
import datetime
import zoneinfo

import psycopg2

from sale_service.app import create_app
from sale_service.app.models import db
from sale_service.app.reconciler import record_refund_lines
from testsupport import aggregates
from testsupport.clients import CheckedClient
from testsupport.postgres import libpq_url
from testsupport.settings import TEST_JWT_SECRET, settings_for_tests
from testsupport.shop import backdate, backdate_refunds

from .test_payments import pay, sales
from .test_revenue import daily

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")


def days_ago(n):
    return datetime.datetime.now(SEOUL).date() - datetime.timedelta(days=n)


def refund_lines(client, pos, start, end):
    response = client.get(f"/internal/reports/refund-item-days?start={start.isoformat()}&end={end.isoformat()}",
                          headers=pos.headers)
    assert response.status_code == 200
    return response.get_json()["lines"]


def sold(client, pos, table_no, day, **dishes):
    """A sale of the dishes at table_no, moved to noon of day."""
    order = pos.order(table_no, **dishes)
    sale = pay(client, pos, table_no, order["total_price"]).get_json()
    backdate(pos.database_url, [(sale["order_id"], sale["id"],
                                 datetime.datetime.combine(day, datetime.time(12), tzinfo=SEOUL))])
    return sale


def test_a_refund_reports_its_lines_on_its_own_day_with_the_day_of_the_sale(client, pos, database_url):
    terminal = pos()
    terminal.database_url = database_url
    first = sold(client, terminal, 1, days_ago(4), 제육볶음=2, 공기밥=2)
    second = sold(client, terminal, 2, days_ago(3), 제육볶음=1)
    sold(client, terminal, 3, days_ago(3), 김치찌개=1)  # not refunded
    for sale, day in ((first, days_ago(1)), (second, days_ago(1))):
        refund = client.delete(f"/sales/{sale['id']}", headers=terminal.headers).get_json()
        backdate_refunds(database_url, [(refund["refund_id"],
                                         datetime.datetime.combine(day, datetime.time(15), tzinfo=SEOUL))])

    lines = refund_lines(client, terminal, days_ago(1), days_ago(1))

    yesterday = days_ago(1).isoformat()
    assert lines == [
        {"date": yesterday, "sold_on": days_ago(4).isoformat(), "item_id": terminal.items["제육볶음"],
         "name": "제육볶음", "quantity": 2, "sales_volume": 22000},
        {"date": yesterday, "sold_on": days_ago(4).isoformat(), "item_id": terminal.items["공기밥"],
         "name": "공기밥", "quantity": 2, "sales_volume": 2000},
        {"date": yesterday, "sold_on": days_ago(3).isoformat(), "item_id": terminal.items["제육볶음"],
         "name": "제육볶음", "quantity": 1, "sales_volume": 11000},
    ]
    assert sum(line["sales_volume"] for line in lines) == daily(client, terminal, days_ago(1))["refunds"] == 35000
    assert refund_lines(client, terminal, days_ago(4), days_ago(2)) == []  # the sales' own days keep them


def test_another_store_sees_none_of_my_refunded_lines(client, pos):
    mine, theirs = pos(), pos()
    mine.order(1, 김치찌개=1)
    client.delete(f"/sales/{pay(client, mine, 1, 9000).get_json()['id']}", headers=mine.headers)

    assert len(refund_lines(client, mine, days_ago(0), days_ago(0))) == 1
    assert refund_lines(client, theirs, days_ago(0), days_ago(0)) == []


def test_a_refund_the_order_service_cannot_confirm_is_not_recorded(database_url, urls, client, pos):
    terminal = pos()
    terminal.order(1, 공기밥=3)
    sale_id = pay(client, terminal, 1, 3000).get_json()["id"]
    cut_off = create_app(settings_for_tests("sale", database_url, http_get_retries=0,
                                            service_urls={**urls, "order": "http://127.0.0.1:9"}), reconcile_every=0)
    cut_off.test_client_class = CheckedClient

    refused = cut_off.test_client().delete(f"/sales/{sale_id}", headers=terminal.headers)

    assert refused.status_code == 503 and refused.get_json()["service"] == "order"
    assert sales(client, terminal)[0]["refunded_at"] is None
    assert daily(client, terminal, days_ago(0))["sales_volume"] == 3000
    assert client.delete(f"/sales/{sale_id}", headers=terminal.headers).status_code == 200  # once it answers again
    assert refund_lines(client, terminal, days_ago(0), days_ago(0))[0]["quantity"] == 3


def test_a_refund_recorded_before_refunds_kept_their_lines_gets_them_from_the_reconciler(app, client, pos,
                                                                                         database_url):
    terminal = pos()
    terminal.order(1, 제육볶음=1, 공기밥=2)
    sale_id = pay(client, terminal, 1, 13000).get_json()["id"]
    refund_id = client.delete(f"/sales/{sale_id}", headers=terminal.headers).get_json()["refund_id"]
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:  # as before 0003
        cursor.execute("DELETE FROM sale.refund_lines WHERE refund_id = %s", (refund_id,))
        cursor.execute("UPDATE sale.refunds SET order_paid_at = NULL WHERE refund_id = %s", (refund_id,))
    aggregates.recount(database_url, refund_ids=[refund_id])
    assert refund_lines(client, terminal, days_ago(0), days_ago(0)) == []

    def reconcile():
        with app.app_context():
            outcome = record_refund_lines(session=db.session, client=app.extensions["salesync_client"],
                                          jwt_secret=TEST_JWT_SECRET)
            db.session.remove()
            return outcome

    assert reconcile() == {"recorded": 1, "not_yet": 0}
    assert [(line["name"], line["quantity"], line["sales_volume"])
            for line in refund_lines(client, terminal, days_ago(0), days_ago(0))] == [("제육볶음", 1, 11000),
                                                                                     ("공기밥", 2, 2000)]
    assert reconcile() == {"recorded": 0, "not_yet": 0}
