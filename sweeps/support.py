"""What the sweeps share: a browser-like client of the served BFF that counts its requests, and a
store set up through the BFF with a menu, costs, open tables, sales (one refunded) and consulting jobs."""
from __future__ import annotations

import collections
import dataclasses
import datetime
import uuid
import zoneinfo

import requests
from sqlalchemy.dialects.postgresql import insert

from dashboard_service.app.models import ConsultingResult, db
from testsupport import shop as scenario
from testsupport.bff_contract import check_answer

TODAY = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()
WEEK_AGO = TODAY - datetime.timedelta(days=6)
ORIGIN = "http://pos.example.test"
PASSWORD = "Passw0rd!23"

# Requests each sweep sent to the BFF, printed at the end of the run (see conftest.pytest_terminal_summary).
REQUESTS: collections.Counter = collections.Counter()
# Where the OpenAPI document and the services disagree (SALESYNC_FUZZ_DOC_CHECKS=1), one example per kind.
DOC_NOTES: dict[str, str] = {}


class Browser:
    """What the React POS sends to the BFF's one base URL: JSON, Bearer token, X-CSRF-Token, an Origin."""

    def __init__(self, base_url: str, *, tally: str):
        self.base_url = base_url
        self.tally = tally
        self.session = requests.Session()
        self.token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Origin": ORIGIN, "X-CSRF-Token": "csrf"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def request(self, method: str, path: str, body=None, *, headers: dict | None = None, auth: bool = True):
        return self.send(method, path, body, {**(self.headers if auth else {}), **(headers or {})})

    def send(self, method: str, path: str, body, headers: dict):
        """One request, counted, with an Origin as a browser sends it (the scenario driver's transport)."""
        REQUESTS[self.tally] += 1
        return self.session.request(method, self.base_url + path, json=body, headers={"Origin": ORIGIN, **headers},
                                    timeout=30, allow_redirects=False)

    def call(self, method: str, path: str, body=None, *, expect: int = 200, **kwargs):
        response = self.request(method, path, body, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        body = response.json()
        check_answer(method, path, response.status_code, body)
        return body


@dataclasses.dataclass
class Shop:
    """A store with everything a sweep can aim at, made through the BFF as the POS makes it."""
    browser: Browser
    store_id: int
    username: str
    marker: str                       # in every name this store gave, so another store's answers can be searched
    categories: dict[str, int]        # name -> id (one of them deleted)
    items: dict[str, int]             # name -> id (one of them deleted)
    open_tables: list[int]            # tables with an open order
    sales: list[int]                  # sale ids: the first one refunded
    req_ids: list[str]                # consulting jobs (the first one also has a result on the dashboard)
    deleted_category: int
    deleted_item: int
    idempotency_keys: list[str]       # the keys of the first order and of the kept sale
    idempotent_bodies: list[dict]     # the bodies sent with them

    def item(self, name: str) -> int:
        return self.items[f"{name}{self.marker}"]

    def category(self, name: str) -> int:
        return self.categories[f"{name}{self.marker}"]


def open_shop(base_url: str, *, tally: str, label: str, dashboard_app=None, scale: int = 1000,
              tables: tuple[int, int, int, int] = (3, 0, 4, 5)) -> Shop:
    """Sign up, build a menu with costs, open two tables, pay two more (refund one), start consulting.

    Prices are `scale` times 21, 24, 9, 2, 3, 5 won, so two stores with different scales can tell
    each other's amounts apart. `tables` are (open, open, paid, paid and refunded).
    With `dashboard_app` (the dashboard service's Flask app), the first consulting job's advice is
    stored where the dashboard consumer stores what arrives from Kafka, so GET /dashboard/consulting/<id>
    has something to answer.
    """
    browser = Browser(base_url, tally=tally)
    marker = f"{label}{uuid.uuid4().hex[:6]}"
    username = f"sweep{uuid.uuid4().hex[:10]}"
    pos = scenario.Shop(browser.send).sign_up(username=username, password=PASSWORD, store_name=f"가게{marker}")
    browser.token = pos.token
    pos.headers = browser.headers
    store_id = pos.store_id

    menu = {"피자": {"포테이토": 21, "페퍼로니": 24, "단종": 9}, "음료": {"콜라": 2, "사이다": 3},
            "폐지": {"옛메뉴": 5}}
    marked = {f"{category}{marker}": {f"{name}{marker}": price * scale for name, price in priced.items()}
              for category, priced in menu.items()}
    items = pos.build_menu({category: {name: str(price) for name, price in priced.items()}  # as the POS sends it
                            for category, priced in marked.items()})
    categories = pos.categories
    pos.set_costs(**{name: price // 3 for priced in marked.values() for name, price in priced.items()})

    def cart(**quantities):
        return pos.cart(**{f"{name}{marker}": n for name, n in quantities.items()})

    open_1, open_2, paid, refunded = tables
    tag = uuid.uuid4().hex[:8]  # header values are ASCII
    keys = [f"sweep-{tag}-order", f"sweep-{tag}-sale"]
    bodies = [{"table_no": open_1, "carts": cart(포테이토=1, 콜라=2)},
              {"table_no": paid, "payment_type": "카드", "total_price": 24 * scale}]
    pos.call("POST", "/orders/", bodies[0], **{"Idempotency-Key": keys[0]})
    pos.call("POST", "/orders/", {"table_no": open_2, "carts": cart(사이다=1)})
    pos.call("POST", "/orders/", {"table_no": paid, "carts": cart(페퍼로니=1)})
    pos.call("POST", "/orders/", {"table_no": refunded, "carts": cart(콜라=3)})
    sales = [pos.pay(refunded, 6 * scale, "현금")["id"], pos.pay(paid, 24 * scale, "카드", key=keys[1])["id"]]
    pos.refund(sales[0])

    deleted_item = items[f"단종{marker}"]
    pos.call("DELETE", f"/categories/items/{deleted_item}")
    deleted_category = categories[f"폐지{marker}"]
    pos.call("DELETE", f"/categories/{deleted_category}")

    req_ids = [pos.call("GET", f"/consulting/test?start={WEEK_AGO}&end={TODAY}")["req_id"],
               pos.call("GET", f"/consulting/?start={TODAY}&end={TODAY}")["req_id"]]
    if dashboard_app is not None:
        store_advice(dashboard_app, store_id=store_id, req_id=req_ids[0], text=f"세트 메뉴를 홍보하세요 {marker}")
    return Shop(browser=browser, store_id=store_id, username=username, marker=marker, categories=categories,
                items=items, open_tables=[open_1, open_2], sales=sales, req_ids=req_ids,
                deleted_category=deleted_category, deleted_item=deleted_item, idempotency_keys=keys,
                idempotent_bodies=bodies)


def state_of(shop) -> dict:
    """Everything the BFF shows store A, read through the BFF with A's token."""
    period = f"start={WEEK_AGO}&end={TODAY}"
    paths = ["/stores/", "/categories/", "/categories/items", "/bff/costs", "/orders/unpaids",
             *[f"/orders/unpaids/{table}" for table in shop.open_tables],
             "/sales/", f"/sales/daily?date={TODAY}", f"/sales/period?{period}",
             f"/bff/sales?{period}", f"/bff/volumes?{period}",
             *[f"/consulting/test/{req_id}" for req_id in shop.req_ids],
             *[f"/dashboard/consulting/test/{req_id}" for req_id in shop.req_ids]]
    state = {}
    for path in paths:
        response = shop.browser.request("GET", path)
        state[path] = [response.status_code, response.json()]
    # The password is not shown anywhere: that it still logs in is its state.
    login = shop.browser.request("POST", "/stores/login", {"username": shop.username, "password": PASSWORD}, auth=False)
    state["POST /stores/login"] = [login.status_code, login.json().get("store_id")]
    return state


def store_advice(dashboard_app, *, store_id: int, req_id: str, text: str) -> None:
    """Put one consulting result where the dashboard consumer puts what it reads from Kafka.

    Only the result row is written (as dashboard_service.app.consulting_feed.apply_records writes it),
    not a consumer position, so the consumer tests that share this database are not disturbed.
    """
    with dashboard_app.app_context():
        db.session.execute(insert(ConsultingResult).values(
            req_id=uuid.UUID(req_id), store_id=store_id, source="rule_based", consulting=text,
            created_at=datetime.datetime.now(datetime.UTC)).on_conflict_do_nothing(index_elements=["req_id"]))
        db.session.commit()


# ---- requests for any route of the BFF's route table ----------------------------------------------

# A valid query value per field name of the route table's query models.
QUERY_VALUES = {"date": TODAY.isoformat(), "start": WEEK_AGO.isoformat(), "end": TODAY.isoformat(),
                "username": "nobody12345", "resend": None,
                "limit": 500, "cursor": None}  # a cursor is only valid for the list that returned it


def valid_body(model, *, marker: str) -> dict:
    """A body that passes `model`, by model name: a sweep's refusal must not be a 400 for the body."""
    bodies = {
        "CategoryForm": {"name": f"침입{marker}"},
        "ItemForm": {"name": f"침입{marker}", "price": 1},
        "ItemUpdate": {"name": f"침입{marker}", "price": 1},
        "StoreUpdate": {"password": "Hijack3d!pass"},
        "PasswordCheck": {"password": PASSWORD},
        "OrderForm": {"table_no": 9, "carts": []},
        "Payment": {"table_no": 9, "payment_type": "카드", "total_price": 1},
        "CostsForm": {"items": []},
        "SignUp": {"username": f"sweep{uuid.uuid4().hex[:10]}", "password": PASSWORD, "owner_name": "홍길동",
                   "phone": "01012345678", "store_name": f"가게{marker}", "address": "서울시",
                   "store_type": "일반음식점"},
        "Login": {"username": "nobody12345", "password": PASSWORD},
    }
    if model.__name__ not in bodies:
        raise LookupError(f"sweeps/support.py valid_body has no body for {model.__name__}: add one")
    body = bodies[model.__name__]
    model.model_validate(body)
    return body


def query_string(route) -> str:
    if route.query is None:
        return ""
    unknown = set(route.query.model_fields) - set(QUERY_VALUES)
    if unknown:
        raise LookupError(f"sweeps/support.py QUERY_VALUES has no value for {sorted(unknown)} of {route.path}")
    pairs = [f"{name}={QUERY_VALUES[name]}" for name in route.query.model_fields if QUERY_VALUES[name] is not None]
    return "?" + "&".join(pairs) if pairs else ""


def route_id(route) -> str:
    return f"{route.method} {route.path}"
