import time

import pytest

from salesync_common.tokens import issue_token
from testsupport.settings import TEST_JWT_SECRET

from .test_orders import order, table
from .test_payment_close import from_sale


@pytest.fixture
def two_shops(shop, new_store, build_menu):
    """Store A with an open order at table 3; store B with its own menu."""
    a_headers, a_items = shop
    _, b_headers = new_store()
    return a_headers, a_items, b_headers, build_menu(b_headers)


def test_another_store_sees_none_of_my_tables(client, two_shops):
    a, a_items, b, _ = two_shops
    order(client, a, 3, [(a_items["아메리카노"], 2)])

    assert client.get("/orders/unpaids", headers=b).get_json()["orders"] == []
    assert table(client, b, 3)["carts"] == []


def test_another_store_cannot_change_or_cancel_my_table(client, two_shops):
    a, a_items, b, b_items = two_shops
    order(client, a, 3, [(a_items["아메리카노"], 2)])

    changed = order(client, b, 3, [(b_items["아메리카노"], 9)], method="PUT")
    emptied = order(client, b, 3, [], method="PUT")
    deleted = client.delete("/orders/3", headers=b).get_json()

    assert changed.status_code == 404
    assert emptied.get_json()["result"] == "failed"
    assert deleted["orders"] == []
    assert table(client, a, 3)["total_price"] == 9000


def test_another_stores_items_cannot_be_ordered(client, two_shops):
    a, a_items, b, _ = two_shops
    response = order(client, b, 1, [(a_items["아메리카노"], 1)])
    assert response.status_code == 404
    assert table(client, b, 1)["carts"] == []


def test_the_internal_order_routes_answer_404_for_another_stores_order(client, two_shops):
    a, a_items, b, _ = two_shops
    order_id = order(client, a, 3, [(a_items["아메리카노"], 1)]).get_json()["order_id"]

    assert client.get(f"/internal/orders/{order_id}", headers=b).status_code == 404
    assert client.get(f"/internal/orders/{order_id}/lines", headers=b).status_code == 404
    assert client.get("/internal/orders/open/3", headers=b).status_code == 404
    assert client.post(f"/internal/orders/{order_id}/pay", json={"sale_id": 1, "total_price": 4500},
                       headers={**b, **from_sale()}).status_code == 404
    assert client.get(f"/internal/orders/{order_id}", headers=a).get_json()["status"] == "open"


ROUTES = [
    ("POST", "/orders/", {"table_no": 1, "carts": []}),
    ("PUT", "/orders/", {"table_no": 1, "carts": []}),
    ("GET", "/orders/unpaids", None),
    ("GET", "/orders/unpaids/1", None),
    ("DELETE", "/orders/1", None),
    ("GET", "/internal/orders/open/1", None),
    ("GET", "/internal/orders/1", None),
    ("GET", "/internal/orders/1/lines", None),
    ("POST", "/internal/orders/1/pay", {"sale_id": 1, "total_price": 1}),
    ("GET", "/internal/reports/item-days?start=2024-01-01&end=2024-01-02", None),
]


@pytest.mark.parametrize("method,path,body", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
@pytest.mark.parametrize("authorization", [
    None, "Bearer null", "Bearer abc.def.ghi",
    "Bearer " + issue_token(store_id=1, secret="x" * 48, ttl_seconds=600),
    "Bearer " + issue_token(store_id=1, secret=TEST_JWT_SECRET, ttl_seconds=60, now=time.time() - 600),
], ids=["none", "null", "garbage", "wrong secret", "expired"])
def test_every_order_route_needs_a_valid_token(client, method, path, body, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.open(path, method=method, json=body, headers=headers)
    assert response.status_code == 401
