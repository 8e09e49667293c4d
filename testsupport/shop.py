"""The shop-scenario driver: one store driven over HTTP as the POS drives it.

Sign up, build a menu, set costs, place orders, pay (cash or card), refund, and move payments back
to past days; or write many paid orders at chosen instants at once (sell_at), as bench/seed.py writes history.
The same calls go to each service's own URL (`Http({"store": ..., "item": ...})`), to
the BFF's one base URL (`Http(bff_url)`), or to a BFF app in this process (`TestClient(client)`);
costs go to the item service directly, or through the BFF's cost page.
"""
from __future__ import annotations

import dataclasses
import datetime
import uuid
import zoneinfo
from collections.abc import Iterable, Mapping

import psycopg2
import psycopg2.extras
import requests

from . import aggregates
from .postgres import libpq_url
from .settings import service_headers

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
PASSWORD = "Passw0rd!23"
OWNER = {"password": PASSWORD, "owner_name": "홍길동", "phone": "01012345678", "store_name": "테스트가게",
         "address": "서울시 중구", "store_type": "일반음식점"}
# The service behind each path's first segment, for calls that go to the services directly.
SERVICE_OF = {"stores": "store", "categories": "item", "orders": "order", "sales": "sale",
              "dashboard": "dashboard", "consulting": "consulting"}


class UnexpectedReply(AssertionError):
    """A call the scenario needed answered something else."""


class Http:
    """Requests over real HTTP: to one base URL (the BFF), or to each service's own URL by path.

    A service called directly answers only to a Salesync service: each such call carries a service
    token from `caller` (the BFF unless told), as in the cluster.
    """

    def __init__(self, target: str | Mapping[str, str], *, headers: Mapping[str, str] | None = None,
                 timeout: float = 10, session: requests.Session | None = None, check=None, caller: str = "bff",
                 **options):
        self.base = target.rstrip("/") if isinstance(target, str) else None
        self.urls = None if isinstance(target, str) else dict(target)
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.session = session or requests.Session()
        self.check = check  # called with every response (a test's assertions on all of them)
        self.caller = caller
        self.options = options

    def __call__(self, method: str, path: str, body, headers: Mapping[str, str]):
        proof = {}
        if self.base:
            base = self.base
        else:
            service = SERVICE_OF[path.strip("/").split("/")[0]]
            base, proof = self.urls[service], service_headers(service, self.caller)
        response = self.session.request(method, base + path, json=body, headers={**proof, **self.headers, **headers},
                                        timeout=self.timeout, **self.options)
        if self.check is not None:
            self.check(response)
        return response


class TestClient:
    """A Flask test client of the BFF, in this process."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, client):
        self.client = client

    def __call__(self, method: str, path: str, body, headers: Mapping[str, str]):
        return self.client.open(path, method=method, json=body, headers=dict(headers))


def body_of(response):
    return response.get_json() if hasattr(response, "get_json") else response.json()


class Shop:
    """One store: its token, and the ids of the categories and items it made, by name."""

    def __init__(self, send, *, store_id: int | None = None, headers: Mapping[str, str] | None = None,
                 database_url: str | None = None):
        self.send = send
        self.store_id = store_id
        self.headers = dict(headers or {})
        self.database_url = database_url  # for sell(day=...): payments are moved back in the database
        self.form: dict = {}
        self.token: str | None = None
        self.categories: dict[str, int] = {}
        self.items: dict[str, int] = {}
        self.prices: dict[str, int] = {}

    @property
    def urls(self) -> dict[str, str] | None:
        """Each service's URL when the calls go to the services directly; None through the BFF."""
        return getattr(self.send, "urls", None)

    # ---- calls -----------------------------------------------------------------------------------
    def request(self, method: str, path: str, body=None, auth: bool = True, **headers):
        return self.send(method, path, body, {**(self.headers if auth else {}), **headers})

    def _call(self, method: str, path: str, body=None, expect: int = 200, auth: bool = True, **headers):
        """The answer's JSON body; anything but the `expect`ed status fails."""
        response = self.request(method, path, body, auth, **headers)
        if response.status_code != expect:
            raise UnexpectedReply(f"{method} {path}: {response.status_code} {body_of(response)}")
        return body_of(response)

    call = _call  # the scenario's own steps use _call, so a test's Shop may give call a signature of its own

    # ---- the store -------------------------------------------------------------------------------
    def sign_up(self, *, csrf: bool = False, **changes) -> Shop:
        """Sign a new store up (OWNER with `changes`); with csrf, send its CSRF token back as the POS does."""
        self.form = {"username": f"shop{uuid.uuid4().hex[:10]}", **OWNER, **changes}
        signed_up = self._call("POST", "/stores/", self.form, expect=201, auth=False)
        self.store_id = signed_up["store_id"]
        self.token = signed_up["token"]["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        if csrf:
            self.headers["X-CSRF-Token"] = signed_up["token"]["csrf_token"]
        return self

    def log_in(self) -> dict:
        """Log in with the sign-up form's username and password; later calls carry the new token."""
        login = self._call("POST", "/stores/login", {"username": self.form["username"],
                                                     "password": self.form["password"]}, auth=False)
        self.token = login["access_token"]
        self.headers["Authorization"] = f"Bearer {self.token}"
        return login

    def profile(self) -> dict:
        return self._call("GET", "/stores/")["store"]

    # ---- the menu and its costs ------------------------------------------------------------------
    def build_menu(self, menu: Mapping[str, Mapping[str, int | str]]) -> dict[str, int]:
        """{category: {item: price}} -> {item: item id}; prices go as given (the POS sends strings)."""
        made = {}
        for category, priced in menu.items():
            category_id = self._call("POST", "/categories/", {"name": category}, expect=201)["id"]
            self.categories[category] = category_id
            for name, price in priced.items():
                made[name] = self._call("POST", f"/categories/{category_id}/items", {"name": name, "price": price},
                                       expect=201)["id"]
                self.prices[name] = int(price)
        self.items.update(made)
        return made

    def set_costs(self, effective_date: datetime.date | None = None, **costs: int):
        """Item costs by item name, from `effective_date` (default today); other items keep theirs."""
        by_id = {self.items[name]: cost for name, cost in costs.items()}
        if self.urls is None:  # the BFF: its cost page, edited and sent back
            page = self._call("GET", "/bff/costs")
            for category in page["items"]:
                for item in category["items"]:
                    item["cost"] = by_id.get(item["item_id"], item["cost"])
            body = page
        else:
            body = {"items": [{"item_id": item_id, "cost": cost} for item_id, cost in by_id.items()]}
        if effective_date is not None:
            body["effective_date"] = effective_date.isoformat()
        return self._call("POST", "/bff/costs" if self.urls is None else "/categories/items/costs", body)

    # ---- tables ----------------------------------------------------------------------------------
    def cart(self, **quantities: int) -> list[dict]:
        return [{"item_id": self.items[name], "quantity": n} for name, n in quantities.items()]

    def order(self, table_no: int, method: str = "POST", expect: int = 200, **quantities: int) -> dict:
        """Open (or with PUT, change) a table's order."""
        return self._call(method, "/orders/", {"table_no": table_no, "carts": self.cart(**quantities)}, expect=expect)

    def table(self, table_no: int) -> dict:
        return self._call("GET", f"/orders/unpaids/{table_no}")

    def pay(self, table_no: int, total: int | None = None, payment_type: str = "카드", *, key: str | None = None,
            expect: int = 201) -> dict:
        """Pay a table's open order: `total`, or the total the order service shows."""
        if total is None:
            total = self.table(table_no)["total_price"]
        headers = {"Idempotency-Key": key} if key else {}
        return self._call("POST", "/sales/", {"table_no": table_no, "payment_type": payment_type, "total_price": total},
                         expect=expect, **headers)

    def sell(self, day: datetime.date | None = None, payment_type: str = "카드", table_no: int = 1,
             **quantities: int) -> dict:
        """Order and pay a table; with day, the payment is moved to noon of that business day (Seoul)."""
        order = self.order(table_no, **quantities)
        sale = self.pay(table_no, order["total_price"], payment_type)
        if day is not None:
            noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=SEOUL)
            backdate(self.database_url, [(sale["order_id"], sale["id"], noon)])
        return sale

    def sell_at(self, orders: Iterable[PastOrder]) -> list[tuple[int, int]]:
        """Paid orders at chosen instants, at the menu's prices: written straight into the order and sale
        schemas as the services write them (each order paid, with its lines, and its completed sale of the
        same total, table and instant). Returns (order_id, sale_id) of each."""
        return write_paid_orders(self.database_url, store_id=self.store_id, orders=[
            (order, [(self.items[name], name, self.prices[name], quantity) for name, quantity in order.items.items()])
            for order in orders])

    def refund(self, sale: dict | int, day: datetime.date | None = None) -> dict:
        """Refund a sale; with day, the refund is moved to 15:00 of that business day (Seoul)."""
        refund = self._call("DELETE", f"/sales/{sale['id'] if isinstance(sale, dict) else sale}")
        if day is not None:
            afternoon = datetime.datetime.combine(day, datetime.time(15), tzinfo=SEOUL)
            backdate_refunds(self.database_url, [(refund["refund_id"], afternoon)])
        return refund


@dataclasses.dataclass(frozen=True)
class PastOrder:
    """One paid order of a history: when it was paid, what it held ({item name: quantity}) and how."""
    paid_at: datetime.datetime
    items: Mapping[str, int]
    payment_method: str = "card"  # or "cash"
    table_no: int = 1


def write_paid_orders(database_url: str, *, store_id: int,
                      orders: list[tuple[PastOrder, list[tuple[int, str, int, int]]]]) -> list[tuple[int, int]]:
    """Each (order, its lines as (item_id, name, unit price, quantity)) as a paid order and its completed sale,
    counted in the store's report aggregates."""
    if not orders:
        return []
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('\"order\".orders', 'order_id')), "
                       "nextval(pg_get_serial_sequence('sale.sales', 'sale_id')) FROM generate_series(1, %s)",
                       (len(orders),))
        ids = cursor.fetchall()
        order_rows, line_rows, sale_rows = [], [], []
        for (order, lines), (order_id, sale_id) in zip(orders, ids, strict=True):
            total = sum(price * quantity for _, _, price, quantity in lines)
            opened = order.paid_at - datetime.timedelta(minutes=30)
            order_rows.append((order_id, store_id, order.table_no, "paid", total, sale_id, opened, order.paid_at,
                               order.paid_at))
            line_rows += [(order_id, item_id, name, price, quantity) for item_id, name, price, quantity in lines]
            sale_rows.append((sale_id, store_id, order_id, order.table_no, total, order.payment_method, "completed",
                              order.paid_at - datetime.timedelta(seconds=2), order.paid_at))
        psycopg2.extras.execute_values(
            cursor, 'INSERT INTO "order".orders (order_id, store_id, table_no, status, total_price, sale_id, '
                    "created_at, updated_at, paid_at) VALUES %s", order_rows)
        psycopg2.extras.execute_values(
            cursor, 'INSERT INTO "order".order_lines (order_id, item_id, item_name, unit_price, quantity) VALUES %s',
            line_rows)
        psycopg2.extras.execute_values(
            cursor, "INSERT INTO sale.sales (sale_id, store_id, order_id, table_no, total_price, payment_method, "
                    "status, created_at, completed_at) VALUES %s", sale_rows)
    # Written past the services, so counted in the report aggregates here, as the services count a payment.
    aggregates.recount(database_url, store_ids=[store_id])
    return [tuple(pair) for pair in ids]


def backdate(database_url: str, payments: Iterable[tuple[int, int, datetime.datetime]]) -> None:
    """Move paid orders and their sales to an earlier instant, (order_id, sale_id, paid at) each.

    An API cannot take a payment in the past, so past days of history are made by paying now and
    moving the payment back: every timestamp of the order and the sale by the same amount.
    """
    payments = list(payments)
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        for order_id, sale_id, paid_at in payments:
            cursor.execute('UPDATE "order".orders SET created_at = created_at + (%(at)s - paid_at), '
                           'updated_at = updated_at + (%(at)s - paid_at), paid_at = %(at)s WHERE order_id = %(id)s',
                           {"at": paid_at, "id": order_id})
            cursor.execute("UPDATE sale.sales SET created_at = created_at + (%(at)s - completed_at), "
                           "completed_at = %(at)s WHERE sale_id = %(id)s", {"at": paid_at, "id": sale_id})
    aggregates.recount(database_url, order_ids=[order_id for order_id, _, _ in payments])


def backdate_refunds(database_url: str, refunds: Iterable[tuple[int, datetime.datetime]]) -> None:
    """Move refunds to an earlier instant, (refund_id, refunded at) each, as backdate does for payments."""
    refunds = list(refunds)
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        for refund_id, refunded_at in refunds:
            cursor.execute("UPDATE sale.refunds SET created_at = %(at)s WHERE refund_id = %(id)s",
                           {"at": refunded_at, "id": refund_id})
    aggregates.recount(database_url, refund_ids=[refund_id for refund_id, _ in refunds])
