"""Store isolation, swept over the BFF's route table (Decisions 1 and 2, API.md §15 items 3 and 4).

Store A has a menu with costs, open tables, a paid and a refunded sale, consulting jobs (one with
advice on the dashboard), deleted things too. Store B, logged in, aims at A's ids through every
route of the table whose path takes one (so a new such route is swept as soon as it is added), and
through the ids that travel in bodies. Every attempt must be refused exactly as B's attempt on an id
that does not exist is refused (so nothing tells B that A's id exists), and must change nothing:
A's whole state as the BFF shows it (profile, categories, menu, costs, open orders, sales, revenue,
reports, consulting) is read before and after each attempt. B's answers on every list route must
carry none of A's data: A's names carry a marker, A's ids are known, and A's amounts are a thousand
times B's.
"""
from __future__ import annotations

import itertools
import json
from typing import get_args

import pytest
from pydantic import BaseModel

from bff.app.routes import ROUTES
from bff.app.urls import PATH_PARAMETER

from .support import open_shop, query_string, route_id, state_of, valid_body

TALLY = "isolation sweep"
NOWHERE_ID = 2_000_000_000          # an id no store has
NOWHERE_REQ_ID = "00000000-0000-4000-8000-000000000000"
NOWHERE_TABLE = 77                  # a table where neither store has an order

# For each path parameter of the route table, the kinds of A's values B tries. A route whose path
# parameter is not here fails test_every_path_parameter_has_values_to_try: add its kinds below.
SLOTS = {
    "store_id": ["A's store"],
    "category_id": ["live category", "other live category", "deleted category"],
    "item_id": ["live item", "other live item", "deleted item", "item of a deleted category"],
    "table_no": ["open table", "open kiosk (0)"],
    "sale_id": ["paid sale", "refunded sale"],
    "req_id": ["consulting with advice", "consulting without advice"],
}
# How a foreign id is refused, when not 404: PUT /stores/<id> is 403 for any id but the caller's (Decision 2).
REFUSAL = {"store_id": 403}
# Table numbers are not owned: another store's table is just a table where the caller has no order,
# so the answer is the caller's own empty table (200), never A's order.
NOT_OWNED = {"table_no"}

ID_ROUTES = [route for route in ROUTES if PATH_PARAMETER.search(route.path)]
LIST_ROUTES = [route for route in ROUTES
               if route.auth and route.method == "GET" and not PATH_PARAMETER.search(route.path)]
MONEY_KEYS = {"price", "cost", "total_price", "sales_volume", "profit", "cash_total", "card_total", "amount",
              "unit_price", "revenue", "net_profit", "refunds_total"}

# Known service bugs this sweep finds: (test id part) -> reason. Each is xfail(strict=True).
KNOWN_BUGS: dict[str, str] = {}


def _a_value(world, name: str, slot: str):
    a = world.a
    values = {
        "A's store": a.store_id,
        "live category": a.category("피자"), "other live category": a.category("음료"),
        "deleted category": a.deleted_category,
        "live item": a.item("포테이토"), "other live item": a.item("콜라"), "deleted item": a.deleted_item,
        "item of a deleted category": a.item("옛메뉴"),
        "open table": a.open_tables[0], "open kiosk (0)": a.open_tables[1],
        "paid sale": a.sales[1], "refunded sale": a.sales[0],
        "consulting with advice": a.req_ids[0], "consulting without advice": a.req_ids[1],
    }
    return values[slot]


def _nowhere(name: str):
    return {"table_no": NOWHERE_TABLE, "req_id": NOWHERE_REQ_ID}.get(name, NOWHERE_ID)


def _path(route, values: dict) -> str:
    return PATH_PARAMETER.sub(lambda match: str(values[match["name"]]), route.path)


def _id_cases():
    for route in ID_ROUTES:
        names = [match["name"] for match in PATH_PARAMETER.finditer(route.path)]
        if not all(name in SLOTS for name in names):
            continue  # reported by test_every_path_parameter_has_values_to_try
        for slots in itertools.product(*(SLOTS[name] for name in names)):
            case_id = f"{route_id(route)} [{', '.join(slots)}]"
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case_id])] if case_id in KNOWN_BUGS else []
            yield pytest.param(route, dict(zip(names, slots, strict=True)), id=case_id, marks=marks)


class World:
    def __init__(self, a, b):
        self.a, self.b = a, b
        self.baseline = state_of(a)
        self.nowhere_answers: dict = {}     # route -> B's answer for an id nobody has

    def assert_a_unchanged(self):
        """A's state now against the state before the attempt (then the new state is the baseline)."""
        after = state_of(self.a)
        before, self.baseline = self.baseline, after
        changed = {path: {"before": before.get(path), "after": after.get(path)}
                   for path in set(before) | set(after) if before.get(path) != after.get(path)}
        assert not changed, "A's state changed:\n" + json.dumps(changed, ensure_ascii=False, indent=1)[:4000]


@pytest.fixture(scope="module")
def world(bff_served, dashboard_app, no_aws):
    a = open_shop(bff_served.url, tally=TALLY, label="가게A", dashboard_app=dashboard_app, scale=1000,
                  tables=(3, 0, 4, 5))
    b = open_shop(bff_served.url, tally=TALLY, label="가게B", dashboard_app=dashboard_app, scale=1,
                  tables=(13, 11, 14, 15))
    return World(a, b)


def _send(world, route, path_values: dict, *, body=None, headers=None):
    path = _path(route, path_values) + query_string(route)
    if body is None and route.body is not None:
        body = valid_body(route.body, marker=world.b.marker)
    return world.b.browser.request(route.method, path, body, headers=headers)


def _error(response):
    try:
        body = response.json()
    except ValueError:
        return response.status_code, response.text[:200]
    return response.status_code, body.get("error") if isinstance(body, dict) and response.status_code >= 400 else body


def _without(body, names):
    """The answer with the tried parameters blanked (by key), to compare A's table with an empty one."""
    if isinstance(body, dict):
        return {key: "<tried>" if key in names else _without(value, names) for key, value in body.items()}
    if isinstance(body, list):
        return [_without(value, names) for value in body]
    return body


def test_every_path_parameter_has_values_to_try():
    missing = {f"{route_id(route)}: <{match['name']}>" for route in ID_ROUTES
               for match in PATH_PARAMETER.finditer(route.path) if match["name"] not in SLOTS}
    assert not missing, f"add the kinds of A's values for these path parameters to SLOTS: {sorted(missing)}"


@pytest.mark.parametrize("route, slots", list(_id_cases()))
def test_another_stores_id_is_refused_and_changes_nothing(world, route, slots):
    tried = {name: _a_value(world, name, slot) for name, slot in slots.items()}
    nowhere = {name: _nowhere(name) for name in slots}
    response = _send(world, route, tried)
    key = route_id(route)
    if key not in world.nowhere_answers:
        world.nowhere_answers[key] = _send(world, route, nowhere)
    control = world.nowhere_answers[key]
    evidence = (f"B {route.method} {_path(route, tried)} -> {response.status_code} {response.text[:300]}\n"
                f"B {route.method} {_path(route, nowhere)} (nobody's) -> {control.status_code} {control.text[:300]}")

    assert response.headers.get("Access-Control-Allow-Origin") == "*", evidence
    if set(slots) & NOT_OWNED:
        assert response.status_code in (200, 404), evidence
        assert world.a.marker not in response.text, evidence
        assert _without(response.json(), set(slots)) == _without(control.json(), set(slots)), evidence
    else:
        expected = max(REFUSAL.get(name, 404) for name in slots)
        assert response.status_code == expected, evidence
        assert _error(response) == _error(control), "A's id is refused unlike an id nobody has:\n" + evidence
    world.assert_a_unchanged()


# ---- ids in bodies and keys -----------------------------------------------------------------------

# name -> (method, the route table's rule, (A, B) -> (path, body, headers))
BODY_CASES = {
    "order A's item": ("POST", "/orders/", lambda a, b: (
        "/orders/", {"table_no": 7, "carts": [{"item_id": a.item("포테이토"), "quantity": 1}]}, {})),
    "order A's item beside mine": ("POST", "/orders/", lambda a, b: (
        "/orders/", {"table_no": 8, "carts": [{"item_id": b.item("콜라"), "quantity": 1},
                                              {"item_id": a.item("콜라"), "quantity": 1}]}, {})),
    "put A's item in my open order": ("PUT", "/orders/", lambda a, b: (
        "/orders/", {"table_no": b.open_tables[0], "carts": [{"item_id": a.item("사이다"), "quantity": 2}]}, {})),
    "re-cart A's open table": ("PUT", "/orders/", lambda a, b: (
        "/orders/", {"table_no": a.open_tables[0], "carts": [{"item_id": b.item("콜라"), "quantity": 5}]}, {})),
    "empty A's open table": ("PUT", "/orders/", lambda a, b: (
        "/orders/", {"table_no": a.open_tables[0], "carts": []}, {})),
    "pay A's open table": ("POST", "/sales/", lambda a, b: (
        "/sales/", {"table_no": a.open_tables[0], "payment_type": "카드", "total_price": 25000}, {})),
    "pay A's open kiosk": ("POST", "/sales/", lambda a, b: (
        "/sales/", {"table_no": a.open_tables[1], "payment_type": "현금", "total_price": 3000}, {})),
    "set costs of A's items": ("POST", "/bff/costs", lambda a, b: (
        "/bff/costs", {"items": [{"category_id": a.category("피자"), "category_name": "피자",
                                  "items": [{"item_id": a.item("포테이토"), "cost": 1}]}]}, {})),
    "set a cost of A's item under my category": ("POST", "/bff/costs", lambda a, b: (
        "/bff/costs", {"items": [{"category_id": b.category("음료"), "category_name": "음료",
                                  "items": [{"item_id": a.item("콜라"), "cost": 1}]}]}, {})),
    "move my item into A's category": ("PUT", "/categories/items/<int:item_id>", lambda a, b: (
        f"/categories/items/{b.item('사이다')}", {"name": f"이사{b.marker}", "price": 3,
                                                  "category_id": a.category("음료")}, {})),
    "replay A's order with A's Idempotency-Key": ("POST", "/orders/", lambda a, b: (
        "/orders/", a.idempotent_bodies[0], {"Idempotency-Key": a.idempotency_keys[0]})),
    "replay A's payment with A's Idempotency-Key": ("POST", "/sales/", lambda a, b: (
        "/sales/", a.idempotent_bodies[1], {"Idempotency-Key": a.idempotency_keys[1]})),
}
# Not a refusal but B's own empty table: A's table number is just a number to B.
OWN_EMPTY_TABLE = {"empty A's open table"}


def _ids_in(body, kind_of_list=None):
    """(kind, id) pairs in an answer: by key name, and `id` by the list it is in."""
    found = set()
    kinds = {"category_id": "category", "item_id": "item", "sale_id": "sale", "order_id": "order",
             "store_id": "store", "req_id": "req"}
    lists = {"categories": "category", "sales": "sale"}
    if isinstance(body, dict):
        for key, value in body.items():
            if key in kinds and isinstance(value, (int, str)) and not isinstance(value, bool):
                found.add((kinds[key], value))
            elif key == "id" and kind_of_list and isinstance(value, int):
                found.add((kind_of_list, value))
            else:
                found |= _ids_in(value, lists.get(key))
    elif isinstance(body, list):
        for value in body:
            found |= _ids_in(value, kind_of_list)
    return found


def _a_ids(world):
    a = world.a
    orders = {order["order_id"] for order in a.browser.call("GET", "/orders/unpaids")["orders"]}
    orders |= {sale["order_id"] for sale in a.browser.call("GET", "/sales/")["sales"]}
    return ({("category", v) for v in [*a.categories.values(), a.deleted_category]}
            | {("item", v) for v in a.items.values()} | {("sale", v) for v in a.sales}
            | {("order", v) for v in orders} | {("store", a.store_id)} | {("req", v) for v in a.req_ids})


def _money(body):
    if isinstance(body, dict):
        for key, value in body.items():
            if key in MONEY_KEYS and isinstance(value, int) and not isinstance(value, bool):
                yield key, value
            else:
                yield from _money(value)
    elif isinstance(body, list):
        for value in body:
            yield from _money(value)


def assert_none_of_as_data(world, response, evidence):
    assert world.a.marker not in response.text, "A's names in B's answer:\n" + evidence
    leaked = _ids_in(response.json()) & _a_ids(world)
    assert not leaked, f"A's ids {sorted(leaked)} in B's answer:\n" + evidence
    # B's prices are A's divided by 1000: any amount of A's in B's figures makes one 1000 won or more.
    large = [(key, value) for key, value in _money(response.json()) if abs(value) >= 1000]
    assert not large, f"amounts of A's size {large} in B's answer:\n" + evidence


def test_every_route_with_ids_in_its_body_has_cases():
    """A route whose body carries ids (a new one with item_id, say) must have a case in BODY_CASES."""
    def id_fields(model, seen=()):
        names = set()
        for name, field in model.model_fields.items():
            if name.endswith("_id") or name == "table_no":
                names.add(name)
            for inner in _models_in(field.annotation):
                if inner not in seen:
                    names |= id_fields(inner, (*seen, model))
        return names

    covered = {(method, rule) for method, rule, _ in BODY_CASES.values()}
    missing = [route_id(route) for route in ROUTES if route.auth and route.body is not None
               and id_fields(route.body) and (route.method, route.path) not in covered]
    assert not missing, f"add cases with A's ids in the body of: {missing}"
    assert covered <= {(route.method, route.path) for route in ROUTES}, "a body case names no route of the table"


def _models_in(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


@pytest.mark.parametrize("case", [
    pytest.param(name, id=name,
                 marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])] if name in KNOWN_BUGS else [])
    for name in BODY_CASES])
def test_another_stores_ids_in_a_body_are_refused_and_change_nothing(world, case):
    method, _, build = BODY_CASES[case]
    path, body, headers = build(world.a, world.b)
    response = world.b.browser.request(method, path, body, headers=headers)
    evidence = (f"B {method} {path} {json.dumps(body, ensure_ascii=False)} {headers} "
                f"-> {response.status_code} {response.text[:400]}")
    assert response.headers.get("Access-Control-Allow-Origin") == "*", evidence
    if case in OWN_EMPTY_TABLE:
        assert response.status_code in (200, 404) and response.json()["result"] != "cancelled", evidence
    else:
        assert response.status_code == 404, evidence
    assert_none_of_as_data(world, response, evidence)
    world.assert_a_unchanged()


# ---- list routes: B's answers carry none of A's data -----------------------------------------------

@pytest.mark.parametrize("route", [
    pytest.param(route, id=route_id(route),
                 marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[route_id(route)])]
                 if route_id(route) in KNOWN_BUGS else []) for route in LIST_ROUTES])
def test_my_lists_and_reports_carry_none_of_another_stores_data(world, route):
    path = route.path + query_string(route)
    response = world.b.browser.request(route.method, path)
    evidence = f"B {route.method} {path} -> {response.status_code} {response.text[:600]}"
    assert response.status_code == route.status, evidence
    assert response.headers.get("Access-Control-Allow-Origin") == "*", evidence
    assert_none_of_as_data(world, response, evidence)
    world.assert_a_unchanged()


def test_the_owner_still_reads_what_the_other_store_was_refused(world):
    """The refusals were B's alone: A still sees its table, its advice and its sales."""
    a = world.a
    assert a.browser.call("GET", f"/orders/unpaids/{a.open_tables[0]}")["carts"]
    assert a.browser.call("GET", f"/dashboard/consulting/test/{a.req_ids[0]}")["consulting"].endswith(a.marker)
    assert a.browser.call("GET", f"/consulting/test/{a.req_ids[0]}")["result"] == "not completed"
    assert sorted(sale["id"] for sale in a.browser.call("GET", "/sales/")["sales"]) == sorted(a.sales)
