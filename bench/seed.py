"""A store worth measuring: a 40-item menu in 6 categories through the API, then 90 days of history
(about 200 paid orders a day) written straight into the order, sale and item schemas; and, for the history
mode, other stores around it (write_other_stores).

18,000 orders through HTTP would take too long, so the history is written with SQL, consistent
with what the services write themselves: each paid order has its lines (item name and unit price
as ordered) and total; its completed sale has the same total, order_id, table and one instant for
paid_at and completed_at (sale_id on the order); item costs are dated rows, one in force since
before the history and a change 30 days ago for a third of the items. The report aggregates (order item days,
sale revenue days) are then counted from those rows by the services' own recount, as the payments would
have counted them.
"""
from __future__ import annotations

import datetime
import io
import random
import uuid
import zoneinfo

import psycopg2

from testsupport import aggregates
from testsupport.postgres import libpq_url
from testsupport.shop import Http, Shop

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
PASSWORD = "Bench!Pass123"  # meets the sign-up rules; the store is throwaway

MENU = {
    "커피": [("아메리카노", 4500, 900), ("카페라떼", 5000, 1300), ("바닐라라떼", 5500, 1600), ("콜드브루", 5000, 1100),
           ("카푸치노", 5000, 1300), ("에스프레소", 4000, 800), ("카라멜마끼아또", 5800, 1700),
           ("플랫화이트", 5300, 1400)],
    "음료": [("레몬에이드", 5500, 1500), ("자몽티", 5000, 1400), ("밀크티", 5500, 1700), ("녹차라떼", 5500, 1600),
           ("초코라떼", 5500, 1700), ("유자차", 5000, 1300), ("딸기스무디", 6500, 2200)],
    "디저트": [("치즈케이크", 6500, 2600), ("티라미수", 6800, 2900), ("마카롱", 2500, 1200), ("크루아상", 3800, 1000),
            ("스콘", 3500, 900), ("브라우니", 4200, 1300), ("쿠키", 2500, 700)],
    "브런치": [("에그샌드위치", 7500, 3000), ("클럽샌드위치", 8900, 3800), ("팬케이크", 9500, 3200),
            ("프렌치토스트", 8500, 2800), ("샐러드볼", 9000, 3900), ("베이글세트", 6500, 2300)],
    "식사": [("파스타", 13000, 4500), ("리조또", 14000, 5000), ("오므라이스", 11000, 3500), ("카레라이스", 10000, 3000),
           ("치킨랩", 9500, 3400), ("수프", 6000, 1800)],
    "시즌": [("딸기라떼", 6500, 2300), ("호박수프", 7000, 2200), ("뱅쇼", 7500, 2600), ("단호박케이크", 7000, 2700),
           ("밤라떼", 6300, 2000), ("애플파이", 6800, 2500)],
}
DAYS = 90
ORDERS_PER_DAY = 200
# The other stores of the history mode: a shorter history each, enough to make every table a hundred
# stores deep around the measured one.
OTHER_DAYS = 30
OTHER_ORDERS_PER_DAY = 100


def sign_up(base: str, prefix: str = "bench") -> tuple[Shop, int, str]:
    """A new store through the BFF, as the POS signs up; returns (its shop, store id, username)."""
    username = (prefix + uuid.uuid4().hex)[:16]
    shop = Shop(Http(base, headers={"X-CSRF-Token": "csrf"}, timeout=30)).sign_up(
        username=username, password=PASSWORD, owner_name="김벤치", store_name="벤치 카페",
        address="서울시 성동구 성수이로 1", store_type="휴게음식점")
    return shop, shop.store_id, username


def create_menu(shop: Shop) -> list[dict]:
    """The menu through the API; returns [{item_id, name, price, cost}]."""
    # The POS sends the price as a string from a text box.
    ids = shop.build_menu({category: {name: str(price) for name, price, _ in dishes}
                           for category, dishes in MENU.items()})
    return [{"item_id": ids[name], "name": name, "price": price, "cost": cost}
            for dishes in MENU.values() for name, price, cost in dishes]


# A store's tables are 1-99 (order_service.app.models.MAX_TABLE_NO; 0 is the kiosk).
MAX_TABLE_NO = 99


def terminals_per_store(tables_per_terminal: int) -> int:
    """How many POS terminals one store holds when each works tables of its own."""
    return MAX_TABLE_NO // tables_per_terminal


def terminal_stores(base: str, first: dict, *, terminals: int, tables_per_terminal: int,
                    made: list[dict] | None = None) -> list[dict]:
    """The stores `terminals` work in: `first` ({token, items}), then as many more, each with the menu, as it
    takes to give every terminal tables of its own (two cashiers on one table answer each other 409s).
    `made` keeps the stores of an earlier call (the knee's steps) to reuse."""
    stores = [first, *(made or [])]
    while len(stores) * terminals_per_store(tables_per_terminal) < terminals:
        shop, _, _ = sign_up(base)
        stores.append({"token": shop.token, "items": [{"item_id": item["item_id"]} for item in create_menu(shop)]})
        if made is not None:
            made.append(stores[-1])
    return stores


def _copy(cursor, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if value is None else str(value) for value in row) + "\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def _ids(cursor, table: str, column: str, count: int) -> list[int]:
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                   (table, column, count))
    return [row[0] for row in cursor.fetchall()]


def write_history(database_url: str, *, store_id: int, items: list[dict], days: int = DAYS,
                  orders_per_day: int = ORDERS_PER_DAY, seed: int = 42) -> dict:
    """Paid orders with lines and their completed sales for the `days` business days before today."""
    rng = random.Random(seed)
    today = datetime.datetime.now(SEOUL).date()
    orders, lines = [], []
    for days_ago in range(days, 0, -1):
        day = today - datetime.timedelta(days=days_ago)
        for _ in range(max(1, int(rng.gauss(orders_per_day, orders_per_day * 0.15)))):
            opened = datetime.datetime.combine(day, datetime.time(9), SEOUL) + datetime.timedelta(
                seconds=rng.randint(0, 12 * 3600))
            paid = opened + datetime.timedelta(seconds=rng.randint(300, 5400))
            picked = rng.sample(items, rng.choice((1, 1, 2, 2, 2, 3, 3, 4)))
            order_lines = [(item, rng.choice((1, 1, 1, 2, 2, 3))) for item in picked]
            total = sum(item["price"] * quantity for item, quantity in order_lines)
            table_no = rng.randint(0, 20)
            orders.append((table_no, total, opened, paid, order_lines, rng.choice(("cash", "card", "card"))))
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        order_ids = _ids(cursor, '"order".orders', "order_id", len(orders))
        sale_ids = _ids(cursor, "sale.sales", "sale_id", len(orders))
        order_rows, sale_rows = [], []
        numbered = zip(orders, order_ids, sale_ids, strict=True)
        for (table_no, total, opened, paid, order_lines, method), order_id, sale_id in numbered:
            order_rows.append((order_id, store_id, table_no, "paid", total, sale_id, opened.isoformat(),
                               paid.isoformat(), paid.isoformat()))
            for item, quantity in order_lines:
                lines.append((order_id, item["item_id"], item["name"], item["price"], quantity))
            sale_rows.append((sale_id, store_id, order_id, table_no, total, method, "completed",
                              (paid - datetime.timedelta(seconds=2)).isoformat(), paid.isoformat()))
        _copy(cursor, '"order".orders', ("order_id", "store_id", "table_no", "status", "total_price", "sale_id",
                                         "created_at", "updated_at", "paid_at"), order_rows)
        _copy(cursor, '"order".order_lines', ("order_id", "item_id", "item_name", "unit_price", "quantity"), lines)
        _copy(cursor, "sale.sales", ("sale_id", "store_id", "order_id", "table_no", "total_price", "payment_method",
                                     "status", "created_at", "completed_at"), sale_rows)
        # Costs: one in force since before the history, and a change 30 days ago for every third item.
        first_day = today - datetime.timedelta(days=days + 1)
        changed_day = today - datetime.timedelta(days=30)
        cost_rows = [(store_id, item["item_id"], item["cost"], first_day.isoformat()) for item in items]
        cost_rows += [(store_id, item["item_id"], int(item["cost"] * 1.1), changed_day.isoformat())
                      for item in items[::3]]
        _copy(cursor, "item.item_costs", ("store_id", "item_id", "cost", "effective_date"), cost_rows)
    aggregates.recount(database_url, store_ids=[store_id])
    _analyze(database_url)
    revenue = sum(order[1] for order in orders)
    return {"days": days, "orders": len(orders), "lines": len(lines), "revenue": revenue,
            "cost_rows": len(cost_rows)}


SEEDED_TABLES = ('"order".orders', '"order".order_lines', '"order".item_days', "sale.sales", "sale.revenue_days",
                 "item.items", "item.item_costs", "store.stores")


def _analyze(database_url: str) -> None:
    """Vacuum and analyze what the seed wrote, now: otherwise autovacuum does it for the bulk inserts while the
    load runs, and the load pays for it (VACUUM also fills the visibility map, for index-only scans)."""
    connection = psycopg2.connect(libpq_url(database_url))
    connection.autocommit = True  # VACUUM cannot run in a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(SEEDED_TABLES)}")
    finally:
        connection.close()


# Set-based, in one transaction: stores copied from the measured one (same password hash and time zone),
# one category with the measured store's 40 dishes each, a cost per item, then `days` days of paid orders
# (1-3 distinct items, 1-3 of each) with their lines and completed sales, 09:00-21:00 Seoul time.
_OTHER_STORES_SQL = """
CREATE TEMP TABLE other_stores (store_id integer, n integer) ON COMMIT DROP;
WITH made AS (
    INSERT INTO store.stores (username, password_hash, owner_name, phone, store_name, address, store_type, time_zone)
    SELECT 'other' || %(tag)s || lpad(n::text, 3, '0'), password_hash, owner_name, phone, store_name || ' ' || n,
           address, store_type, time_zone
    FROM store.stores, generate_series(1, %(count)s) n WHERE store_id = %(like)s
    RETURNING store_id)
INSERT INTO other_stores SELECT store_id, row_number() OVER (ORDER BY store_id) FROM made;

CREATE TEMP TABLE other_categories (store_id integer, category_id integer) ON COMMIT DROP;
WITH made AS (
    INSERT INTO item.categories (store_id, name) SELECT store_id, '메뉴' FROM other_stores
    RETURNING store_id, category_id)
INSERT INTO other_categories SELECT * FROM made;

CREATE TEMP TABLE other_items (store_id integer, item_id integer, k integer, name text, price integer)
    ON COMMIT DROP;
WITH made AS (
    INSERT INTO item.items (store_id, category_id, name, price)
    SELECT c.store_id, c.category_id, i.name, i.price
    FROM other_categories c, item.items i WHERE i.store_id = %(like)s AND i.enabled
    RETURNING store_id, item_id, name, price)
INSERT INTO other_items
SELECT store_id, item_id, row_number() OVER (PARTITION BY store_id ORDER BY item_id) - 1, name, price FROM made;

INSERT INTO item.item_costs (store_id, item_id, cost, effective_date)
SELECT store_id, item_id, price * 3 / 10, (now() AT TIME ZONE 'Asia/Seoul')::date - %(days)s - 1 FROM other_items;

CREATE TEMP TABLE other_orders ON COMMIT DROP AS
SELECT nextval(pg_get_serial_sequence('"order".orders', 'order_id'))::integer AS order_id,
       nextval(pg_get_serial_sequence('sale.sales', 'sale_id'))::integer AS sale_id,
       s.store_id, (random() * 20)::integer AS table_no,
       (((now() AT TIME ZONE 'Asia/Seoul')::date - d) + time '09:00' + random() * interval '12 hours')
           AT TIME ZONE 'Asia/Seoul' AS paid_at,
       1 + (random() * 2)::integer AS line_count, (random() * 39)::integer AS first_item,
       CASE WHEN random() < 1.0 / 3 THEN 'cash' ELSE 'card' END AS method
FROM other_stores s, generate_series(1, %(days)s) d, generate_series(1, %(per_day)s) k;

CREATE TEMP TABLE other_lines ON COMMIT DROP AS
SELECT o.order_id, i.item_id, i.name, i.price, 1 + (random() * 2)::integer AS quantity
FROM other_orders o CROSS JOIN LATERAL generate_series(0, o.line_count - 1) g
JOIN other_items i ON i.store_id = o.store_id AND i.k = (o.first_item + 7 * g) %% %(menu)s;

INSERT INTO "order".orders (order_id, store_id, table_no, status, total_price, sale_id, created_at, updated_at,
                            paid_at)
SELECT o.order_id, o.store_id, o.table_no, 'paid', t.total, o.sale_id, o.paid_at - interval '20 minutes',
       o.paid_at, o.paid_at
FROM other_orders o JOIN (SELECT order_id, sum(quantity * price) AS total FROM other_lines GROUP BY 1) t
    ON t.order_id = o.order_id;
INSERT INTO "order".order_lines (order_id, item_id, item_name, unit_price, quantity)
SELECT order_id, item_id, name, price, quantity FROM other_lines ORDER BY order_id, item_id;
INSERT INTO sale.sales (sale_id, store_id, order_id, table_no, total_price, payment_method, status, created_at,
                        completed_at)
SELECT o.sale_id, o.store_id, o.order_id, o.table_no, r.total_price, o.method, 'completed',
       o.paid_at - interval '2 seconds', o.paid_at
FROM other_orders o JOIN "order".orders r ON r.order_id = o.order_id;
"""


def write_other_stores(database_url: str, *, like_store_id: int, count: int, days: int = OTHER_DAYS,
                       orders_per_day: int = OTHER_ORDERS_PER_DAY) -> dict:
    """`count` other stores, each a copy of the measured store's account and menu with `days` days of history
    (`orders_per_day` paid orders a day), written with set-based SQL; returns what was written."""
    if count <= 0:
        return {"stores": 0, "orders": 0, "lines": 0}
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM item.items WHERE store_id = %s AND enabled", (like_store_id,))
        menu = cursor.fetchone()[0]
        cursor.execute(_OTHER_STORES_SQL, {"tag": uuid.uuid4().hex[:6], "count": count, "like": like_store_id,
                                           "days": days, "per_day": orders_per_day, "menu": menu})
        cursor.execute("SELECT array_agg(store_id), (SELECT count(*) FROM other_orders), "
                       "(SELECT count(*) FROM other_lines) FROM other_stores")
        store_ids, orders, lines = cursor.fetchone()
    aggregates.recount(database_url, store_ids=store_ids)
    _analyze(database_url)
    return {"stores": count, "days": days, "orders_per_day": orders_per_day, "orders": orders, "lines": lines}


def check_history(shop: Shop, expected_revenue: int, days: int = DAYS) -> None:
    """The services read the written history as they read their own: revenue over the period matches."""
    today = datetime.datetime.now(SEOUL).date()
    start, end = today - datetime.timedelta(days=days), today - datetime.timedelta(days=1)
    period = shop.call("GET", f"/sales/period?start={start}&end={end}")
    if period["sales_volume"] != expected_revenue:
        raise RuntimeError(f"seeded revenue {expected_revenue} but /sales/period says {period['sales_volume']}")
    report = shop.call("GET", f"/bff/sales?start={start}&end={end}")
    items_total = sum(item["sales_volume"] for item in report["items"])
    if items_total != expected_revenue or any(item["cost_missing"] for item in report["items"]):
        raise RuntimeError(f"seeded revenue {expected_revenue} but /bff/sales lines add up to {items_total}")
