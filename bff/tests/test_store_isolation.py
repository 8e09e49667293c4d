"""A second store sees and changes none of the first store's data through any BFF path that takes an id (Decision 2)."""
import pytest


@pytest.fixture
def two_stores(pos):
    """Store A with costs, an open table 3 and a paid sale; store B with a menu of its own."""
    a, b = pos(), pos()
    a.order(3, 콜라=1)
    a.order(4, 콜라=1)
    sale_id = a.call("POST", "/sales/", {"table_no": 4, "payment_type": "카드", "total_price": 2000}, expect=201)["id"]
    page = a.call("GET", "/bff/costs")
    page["items"][0]["items"][0]["cost"] = 7000
    a.call("POST", "/bff/costs", page)
    return a, b, sale_id


def test_another_store_cannot_touch_my_categories_or_items(two_stores):
    a, b, _ = two_stores
    assert b.request("PUT", f"/categories/{a.ids['피자']}", {"name": "해킹"}).status_code == 404
    assert b.request("DELETE", f"/categories/{a.ids['피자']}").status_code == 404
    assert b.request("POST", f"/categories/{a.ids['피자']}/items", {"name": "해킹", "price": 1}).status_code == 404
    assert b.request("PUT", f"/categories/items/{a.ids['콜라']}", {"name": "해킹", "price": 1}).status_code == 404
    assert b.request("DELETE", f"/categories/items/{a.ids['콜라']}").status_code == 404

    mine = a.call("GET", "/categories/items")["categories"]
    assert [c["category_name"] for c in mine] == ["피자", "음료"]
    assert [i["name"] for i in mine[1]["items"]] == ["콜라"]
    theirs = b.call("GET", "/categories/items")["categories"]
    assert {i["item_id"] for c in theirs for i in c["items"]}.isdisjoint(
        {i["item_id"] for c in mine for i in c["items"]})


def test_another_store_cannot_see_or_cancel_my_tables(two_stores):
    a, b, _ = two_stores
    assert b.call("GET", "/orders/unpaids")["orders"] == []
    assert b.call("GET", "/orders/unpaids/3")["carts"] == []
    assert b.call("DELETE", "/orders/3")["orders"] == []
    b.call("PUT", "/orders/", {"table_no": 3, "carts": [{"item_id": a.ids["콜라"], "quantity": 9}]}, expect=404)
    assert a.call("GET", "/orders/unpaids/3")["total_price"] == 2000


def test_another_store_cannot_see_or_refund_my_sales(two_stores):
    a, b, sale_id = two_stores
    assert b.call("GET", "/sales/")["sales"] == []
    assert b.request("DELETE", f"/sales/{sale_id}").status_code == 404
    assert [sale["refunded_at"] for sale in a.call("GET", "/sales/")["sales"]] == [None]


def test_another_store_cannot_see_or_set_my_costs(two_stores):
    a, b, _ = two_stores
    assert {i["item_id"] for c in b.call("GET", "/bff/costs")["items"] for i in c["items"]}.isdisjoint(
        {a.ids["포테이토 피자"], a.ids["콜라"]})
    foreign = {"items": [{"category_id": a.ids["피자"], "category_name": "피자",
                          "items": [{"item_id": a.ids["포테이토 피자"], "cost": 1}]}]}
    assert b.request("POST", "/bff/costs", foreign).status_code == 404
    assert a.call("GET", "/bff/costs")["items"][0]["items"][0]["cost"] == 7000


def test_another_store_cannot_change_my_password(two_stores):
    a, b, _ = two_stores
    assert b.request("PUT", f"/stores/{a.store_id}", {"password": "Hijack3d!pass"}).status_code == 403
