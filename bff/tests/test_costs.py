"""The cost page (API.md §8.1): GET /bff/costs nests the item service's costs by category; POST takes them back."""
import pytest

from bff.app import costs as cost_page

MENU = {"피자": {"포테이토 피자": 21000, "페퍼로니 피자": 24000}, "사이드": {}, "음료": {"콜라": 2000, "사이다": 2000}}


def nested(terminal):
    return terminal.call("GET", "/bff/costs")


def test_costs_are_nested_by_category_in_category_order(pos):
    terminal = pos(MENU)
    costs = nested(terminal)
    assert (costs["result"], costs["message"]) == ("success", "원가 조회 성공")
    assert costs["items"] == [
        {"category_id": terminal.ids["피자"], "category_name": "피자", "items": [
            {"item_id": terminal.ids["포테이토 피자"], "name": "포테이토 피자", "price": 21000, "cost": None},
            {"item_id": terminal.ids["페퍼로니 피자"], "name": "페퍼로니 피자", "price": 24000, "cost": None}]},
        {"category_id": terminal.ids["음료"], "category_name": "음료", "items": [
            {"item_id": terminal.ids["콜라"], "name": "콜라", "price": 2000, "cost": None},
            {"item_id": terminal.ids["사이다"], "name": "사이다", "price": 2000, "cost": None}]}]


def test_the_page_sends_the_nested_shape_back_and_a_null_cost_is_left_alone(pos):
    terminal = pos(MENU)
    page = nested(terminal)
    page["items"][0]["items"][0]["cost"] = 2100
    page["items"][1]["items"][1]["cost"] = 500
    saved = terminal.call("POST", "/bff/costs", {"items": page["items"]})
    assert saved["message"] == "원가 등록 성공"
    assert [(item["item_id"], item["cost"]) for item in saved["items"]] == [
        (terminal.ids["포테이토 피자"], 2100), (terminal.ids["페퍼로니 피자"], None),
        (terminal.ids["콜라"], None), (terminal.ids["사이다"], 500)]

    page = nested(terminal)
    page["items"][0]["items"][0]["cost"] = None  # untouched this time: keeps 2100
    page["items"][0]["items"][1]["cost"] = "9000"
    terminal.call("POST", "/bff/costs", page)
    costs = {item["name"]: item["cost"] for category in nested(terminal)["items"] for item in category["items"]}
    assert costs == {"포테이토 피자": 2100, "페퍼로니 피자": 9000, "콜라": None, "사이다": 500}
    menu = terminal.call("GET", "/categories/items")["categories"]
    assert menu[0]["items"][0]["cost"] == 2100


def _page_with(terminal, change):
    page = nested(terminal)
    change(page["items"])
    return page


BAD_PAGES = [
    ("items.0.items.1.cost", lambda items: items[0]["items"][1].update(cost="비쌈")),
    ("items.0.items.1.cost", lambda items: items[0]["items"][1].update(cost=-1)),
    ("items.1.items.0.cost", lambda items: items[1]["items"][0].pop("cost")),
    ("items.1.items.0.item_id", lambda items: items[1]["items"][0].update(item_id="콜라")),
    ("items.0.category_name", lambda items: items[0].pop("category_name")),
    ("items.1.category_id", lambda items: items[1].pop("category_id")),
    ("items.1.items.1.item_id", lambda items: items[1]["items"][1].update(item_id=items[0]["items"][0]["item_id"])),
    # the item service's own limit, named by its place in the nested body
    ("items.1.items.1.cost", lambda items: items[1]["items"][1].update(cost=10**12)),
]


@pytest.mark.parametrize("field, change", BAD_PAGES, ids=[f"{n}-{field}" for n, (field, _) in enumerate(BAD_PAGES)])
def test_a_bad_cost_page_is_a_400_naming_the_nested_field_and_saves_nothing(pos, field, change):
    terminal = pos(MENU)
    page = _page_with(terminal, lambda items: (items[0]["items"][0].update(cost=100), change(items)))
    response = terminal.request("POST", "/bff/costs", page)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field
    assert field in response.get_json()["message"]
    assert all(item["cost"] is None for category in nested(terminal)["items"] for item in category["items"])


def test_a_cost_page_without_items_is_a_400(pos):
    response = pos(MENU).request("POST", "/bff/costs", {"categories": []})
    assert response.status_code == 400 and response.get_json()["field"] == "items"


def test_an_unknown_item_is_a_404_and_saves_nothing(pos):
    terminal = pos(MENU)
    page = nested(terminal)
    page["items"][0]["items"][0]["cost"] = 100
    page["items"][1]["items"].append({"item_id": 2_000_000_000, "name": "없음", "price": 1, "cost": 5})
    assert terminal.request("POST", "/bff/costs", page).status_code == 404
    assert nested(terminal)["items"][0]["items"][0]["cost"] is None


def test_an_item_service_without_the_nested_page_still_serves_the_same_page(pos, monkeypatch):
    """A BFF rolled out before the item service (or an item service rolled back alone) gets a 404 for the
    nested page: the BFF nests the flat list every item service version has, and the page is the same."""
    terminal = pos(MENU)
    page = nested(terminal)
    page["items"][0]["items"][1]["cost"] = 7000
    terminal.call("POST", "/bff/costs", page)
    expected = nested(terminal)
    # the real item service answers this path 404, as one from before the nested page answers COST_PAGE
    monkeypatch.setattr(cost_page, "COST_PAGE", "/categories/items/costs/by-category-of-a-later-version")
    assert nested(terminal) == expected
    assert expected["items"][0]["items"][1]["cost"] == 7000
