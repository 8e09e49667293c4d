"""GET /sales/ answers pages, newest first: 100 without `limit`, at most 500 with it, and a cursor that
neither skips nor repeats a sale when new sales arrive between pages."""
import datetime
import itertools

import pytest
from sqlalchemy import select

from sale_service.app import sales_page
from sale_service.app.models import COMPLETED, Sale, db

BASE = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)
ORDER_IDS = itertools.count(1)


def add_sales(app, store_id, count, *, start=BASE):
    """`count` completed sales, three to a second (ties break by id), oldest first; returns their ids."""
    with app.app_context():
        rows = [Sale(store_id=store_id, order_id=next(ORDER_IDS), table_no=1, total_price=1000 + n,
                     payment_method="card", status=COMPLETED, completed_at=start + datetime.timedelta(seconds=n // 3))
                for n in range(count)]
        db.session.add_all(rows)
        db.session.commit()
        ids = [row.sale_id for row in rows]
        db.session.remove()
    return ids


def newest_first(app, ids):
    with app.app_context():
        rows = db.session.execute(select(Sale.sale_id, Sale.completed_at).where(Sale.sale_id.in_(ids))).all()
        db.session.remove()
    return [sale_id for sale_id, _ in sorted(rows, key=lambda row: (row[1], row[0]), reverse=True)]


def page(client, headers, **query):
    response = client.get("/sales/", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refused(client, headers, **query):
    response = client.get("/sales/", headers=headers, query_string=query)
    assert response.status_code == 400, response.get_json()
    return response.get_json()


@pytest.fixture
def store(new_store):
    return new_store()


def test_105_sales_come_as_a_page_of_100_then_5_newest_first(app, client, store):
    store_id, headers = store
    ids = add_sales(app, store_id, 105)

    first = page(client, headers)
    assert first["limit"] == 100 and len(first["sales"]) == 100 and first["next_cursor"]
    second = page(client, headers, cursor=first["next_cursor"])
    assert second["limit"] == 100 and len(second["sales"]) == 5 and second["next_cursor"] is None

    seen = [sale["id"] for sale in first["sales"] + second["sales"]]
    assert seen == newest_first(app, ids) and sorted(seen) == sorted(ids)
    assert first["sales"][0]["sale_date"] == (BASE + datetime.timedelta(seconds=104 // 3)).isoformat()
    assert set(first["sales"][0]) == {"id", "order_id", "table_no", "total_price", "sale_date", "payment_type",
                                      "payment_method", "refunded_at"}


def test_a_limit_of_500_is_served_and_501_is_a_400_naming_limit(app, client, store):
    store_id, headers = store
    ids = add_sales(app, store_id, 105)

    everything = page(client, headers, limit=500)
    assert [sale["id"] for sale in everything["sales"]] == newest_first(app, ids)
    assert everything["limit"] == 500 and everything["next_cursor"] is None
    for bad in ("501", "0", "-1", "", "ten", "1.5", " 5", "99999999999999999999"):
        body = refused(client, headers, limit=bad)
        assert body["error"] == "invalid_field" and body["field"] == "limit" and "500" in body["message"]


def test_small_pages_walk_every_sale_once(app, client, store):
    store_id, headers = store
    ids = add_sales(app, store_id, 10)
    seen, cursor, pages = [], None, 0
    while True:
        body = page(client, headers, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [sale["id"] for sale in body["sales"]]
        pages, cursor = pages + 1, body["next_cursor"]
        if cursor is None:
            break
    assert pages == 4 and seen == newest_first(app, ids)
    # exactly a page's worth left: the page before the last says so with no cursor, no empty page follows
    assert page(client, headers, limit=10)["next_cursor"] is None


def test_a_sale_paid_between_pages_is_neither_skipped_nor_repeated(app, client, store):
    store_id, headers = store
    ids = add_sales(app, store_id, 105)
    first = page(client, headers)

    [newer] = add_sales(app, store_id, 1, start=BASE + datetime.timedelta(hours=1))
    [older] = add_sales(app, store_id, 1, start=BASE - datetime.timedelta(hours=1))  # e.g. a reconciled payment
    second = page(client, headers, cursor=first["next_cursor"])

    seen = [sale["id"] for sale in first["sales"] + second["sales"]]
    assert len(seen) == len(set(seen)) == 106
    assert seen == newest_first(app, ids + [older])
    assert page(client, headers)["sales"][0]["id"] == newer  # a fresh first page shows it


@pytest.mark.parametrize("cursor", ["", "not a cursor", "%%%", "W10", "bnVsbA", "WzEsMiwzXQ", "x" * 201,
                                    "WzEsIjIwMjYtMTEtMDFUMTI6MDA6MDAiLDFd",  # no time zone
                                    "WzEsIjIwMjYtMTEtMDFUMTI6MDA6MDArMDA6MDAiLC0xXQ",  # a negative id
                                    "WzEsIjIwMjYtMTEtMDFUMTI6MDA6MDArMDA6MDAiLHRydWVd",  # a boolean id
                                    "eyJhIjoxLCJiIjoyLCJjIjozfQ", "\u0000", "7J2M7IudCg"])
def test_a_malformed_cursor_is_a_400_naming_cursor(app, client, store, cursor):
    store_id, headers = store
    add_sales(app, store_id, 3)
    body = refused(client, headers, cursor=cursor)
    assert body["error"] == "invalid_field" and body["field"] == "cursor"


def test_another_stores_cursor_gives_nothing_of_theirs(app, client, new_store):
    (mine, my_headers), (theirs, their_headers) = new_store(), new_store()
    add_sales(app, mine, 5)
    their_ids = add_sales(app, theirs, 5)
    their_cursor = page(client, their_headers, limit=2)["next_cursor"]

    body = refused(client, my_headers, cursor=their_cursor)
    assert body["field"] == "cursor" and "another store" in body["message"]
    assert not {sale["id"] for sale in page(client, my_headers, limit=500)["sales"]} & set(their_ids)
    # a cursor forged with my store id only moves through my own sales
    forged = sales_page.encode_cursor(mine, Sale(completed_at=BASE + datetime.timedelta(days=1), sale_id=2**31 - 1))
    assert not {sale["id"] for sale in page(client, my_headers, cursor=forged)["sales"]} & set(their_ids)


def test_a_page_reads_the_index_backwards_without_sorting(app, store):
    store_id, _ = store
    add_sales(app, store_id, 105)
    with app.app_context():
        after = (BASE + datetime.timedelta(seconds=20), 10**6)
        query = sales_page.page_query(store_id=store_id, limit=100, after=after)
        connection = db.session.connection()
        compiled = query.compile(dialect=connection.dialect)
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        [[plan]] = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).all()
        db.session.rollback()
        db.session.remove()
    nodes = list(walk(plan[0]["Plan"]))
    scans = [node for node in nodes if node.get("Relation Name") == "sales"]
    assert [(node["Node Type"], node["Index Name"], node["Scan Direction"]) for node in scans] == [
        ("Index Scan", "ix_sales_store_completed_at_sale", "Backward")]
    assert "completed_at" in scans[0]["Index Cond"] and "sale_id" in scans[0]["Index Cond"]
    assert not [node for node in nodes if "Sort" in node["Node Type"]]


def walk(node):
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)
