import datetime
import zoneinfo

import pytest

from .conftest import UNUSED_ID, add_category, add_item, menu, seoul_today

BAD_COSTS = {
    "negative": -1,
    "fraction": 10.5,
    "letters": "abc",
    "empty string": "",
    "true": True,
    "over a hundred million": 100_000_001,
    "list": [1],
}


@pytest.fixture
def shop(client, headers):
    """Two categories with items: {name: id}."""
    pizza = add_category(client, headers, "피자")
    drinks = add_category(client, headers, "음료")
    return {
        "pizza": pizza,
        "drinks": drinks,
        "cola": add_item(client, headers, drinks, "콜라", 2000),
        "potato": add_item(client, headers, pizza, "포테이토 피자", 21000),
        "pepperoni": add_item(client, headers, pizza, "페퍼로니 피자", 24000),
    }


def days_ago(n: int) -> str:
    return (seoul_today() - datetime.timedelta(days=n)).isoformat()


def costs_today(client, headers) -> dict[int, int | None]:
    response = client.get("/categories/items/costs", headers=headers)
    assert response.status_code == 200
    return {item["item_id"]: item["cost"] for item in response.get_json()["items"]}


def history(client, headers, start, end, *item_ids) -> dict[int, list]:
    response = client.get("/internal/items/costs", query_string={"start": start, "end": end,
                                                                 "ids": ",".join(map(str, item_ids))}, headers=headers)
    assert response.status_code == 200
    return {item["item_id"]: [(c["effective_date"], c["cost"]) for c in item["costs"]]
            for item in response.get_json()["items"]}


def test_the_cost_list_is_ordered_by_category_then_item_and_starts_without_costs(client, headers, shop):
    response = client.get("/categories/items/costs", headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"result": "success", "message": "원가 조회 성공", "items": [
        {"item_id": shop["potato"], "name": "포테이토 피자", "category_id": shop["pizza"], "price": 21000,
         "cost": None, "category_name": "피자"},
        {"item_id": shop["pepperoni"], "name": "페퍼로니 피자", "category_id": shop["pizza"], "price": 24000,
         "cost": None, "category_name": "피자"},
        {"item_id": shop["cola"], "name": "콜라", "category_id": shop["drinks"], "price": 2000,
         "cost": None, "category_name": "음료"},
    ]}


def test_setting_costs_in_bulk_records_them_and_skips_null_costs(client, headers, shop):
    response = client.post("/categories/items/costs", json={"items": [
        {"item_id": shop["potato"], "cost": 2100},
        {"item_id": shop["cola"], "cost": "700"},
        {"item_id": shop["pepperoni"], "cost": None},
    ]}, headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"result": "success", "message": "원가 등록 성공", "items": [
        {"item_id": shop["potato"], "name": "포테이토 피자", "category_id": shop["pizza"], "price": 21000,
         "cost": 2100},
        {"item_id": shop["cola"], "name": "콜라", "category_id": shop["drinks"], "price": 2000, "cost": 700},
        {"item_id": shop["pepperoni"], "name": "페퍼로니 피자", "category_id": shop["pizza"], "price": 24000,
         "cost": None},
    ]}
    assert costs_today(client, headers) == {shop["potato"]: 2100, shop["pepperoni"]: None, shop["cola"]: 700}
    pizza_items = menu(client, headers)[0]["items"]
    assert [(i["item_id"], i["cost"]) for i in pizza_items] == [(shop["potato"], 2100), (shop["pepperoni"], None)]


def test_a_null_cost_leaves_the_previous_cost_in_place(client, headers, shop):
    client.post("/categories/items/costs", json={"items": [{"item_id": shop["cola"], "cost": 700}]}, headers=headers)

    response = client.post("/categories/items/costs", json={"items": [{"item_id": shop["cola"], "cost": None}]},
                           headers=headers)

    assert response.get_json()["items"][0]["cost"] == 700
    assert costs_today(client, headers)[shop["cola"]] == 700


def test_a_bulk_cost_change_with_one_unknown_item_changes_nothing(client, headers, shop, new_store):
    _, other = new_store()
    foreign = add_item(client, other, add_category(client, other, "기타"), "남의 품목", 1000)

    for bad_id in (foreign, UNUSED_ID, 99_999_999_999):
        response = client.post("/categories/items/costs", json={"items": [
            {"item_id": shop["potato"], "cost": 2100}, {"item_id": bad_id, "cost": 1}]}, headers=headers)
        assert response.status_code == 404
        assert response.get_json()["error"] == "item_not_found"
        assert response.get_json()["item_ids"] == [bad_id]

    assert set(costs_today(client, headers).values()) == {None}
    assert history(client, other, days_ago(30), days_ago(0), foreign)[foreign] == []


def test_a_bulk_cost_change_naming_a_deleted_item_is_a_404(client, headers, shop):
    client.delete(f"/categories/items/{shop['cola']}", headers=headers)

    response = client.post("/categories/items/costs", json={"items": [{"item_id": shop["cola"], "cost": 1}]},
                           headers=headers)

    assert response.status_code == 404


def test_an_empty_bulk_cost_change_changes_nothing(client, headers, shop):
    response = client.post("/categories/items/costs", json={"items": []}, headers=headers)
    assert response.status_code == 200 and response.get_json()["items"] == []


@pytest.mark.parametrize("case", BAD_COSTS)
def test_a_bulk_cost_change_with_a_bad_cost_is_a_400_and_changes_nothing(client, headers, shop, case):
    response = client.post("/categories/items/costs", json={"items": [
        {"item_id": shop["potato"], "cost": 2100}, {"item_id": shop["cola"], "cost": BAD_COSTS[case]}]},
        headers=headers)

    assert response.status_code == 400
    assert response.get_json()["field"] == "items.1.cost"
    assert set(costs_today(client, headers).values()) == {None}


BAD_BULK_BODIES = {
    "no items": ({}, "items"),
    "items not a list": ({"items": {"item_id": 1, "cost": 1}}, "items"),
    "items null": ({"items": None}, "items"),
    "line without item_id": ({"items": [{"cost": 1}]}, "items.0.item_id"),
    "line without cost": ({"items": [{"item_id": 1}]}, "items.0.cost"),
    "item_id as text": ({"items": [{"item_id": "1", "cost": 1}]}, "items.0.item_id"),
    "item_id zero": ({"items": [{"item_id": 0, "cost": 1}]}, "items.0.item_id"),
    "same item twice": ({"items": [{"item_id": 1, "cost": 1}, {"item_id": 1, "cost": 2}]}, "items"),
    "date not a date": ({"items": [], "effective_date": "yesterday"}, "effective_date"),
    "date as a week": ({"items": [], "effective_date": "2024-W01-1"}, "effective_date"),
    "date impossible": ({"items": [], "effective_date": "2024-02-30"}, "effective_date"),
    "date as a number": ({"items": [], "effective_date": 20240101}, "effective_date"),
    "date too far back": ({"items": [], "effective_date": days_ago(367)}, "effective_date"),
}


@pytest.mark.parametrize("case", BAD_BULK_BODIES)
def test_a_bulk_cost_change_with_a_missing_or_bad_field_is_a_400_naming_it(client, headers, case):
    body, field = BAD_BULK_BODIES[case]

    response = client.post("/categories/items/costs", json=body, headers=headers)

    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_setting_one_cost_answers_the_item_with_its_cost(client, headers, shop):
    response = client.put(f"/categories/items/costs/{shop['cola']}", json={"cost": 700}, headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"result": "success", "message": "원가 수정 성공", "item": {
        "item_id": shop["cola"], "name": "콜라", "category_id": shop["drinks"], "price": 2000, "cost": 700}}
    assert costs_today(client, headers)[shop["cola"]] == 700


@pytest.mark.parametrize("item_id", [0, UNUSED_ID, 99_999_999_999])
def test_setting_the_cost_of_an_unknown_item_is_a_404(client, headers, item_id):
    response = client.put(f"/categories/items/costs/{item_id}", json={"cost": 1}, headers=headers)
    assert response.status_code == 404
    assert response.get_json()["message"] == "품목이 존재하지 않습니다."


@pytest.mark.parametrize("body,field", [
    *[({"cost": cost}, "cost") for cost in BAD_COSTS.values()],
    ({}, "cost"),
    ({"cost": None}, "cost"),
    ({"cost": 1, "effective_date": "01/02/2024"}, "effective_date"),
    ({"cost": 1, "effective_date": days_ago(367)}, "effective_date"),
], ids=[*BAD_COSTS, "missing", "null", "date format", "date too far back"])
def test_setting_one_cost_with_a_bad_field_is_a_400_naming_it(client, headers, shop, body, field):
    response = client.put(f"/categories/items/costs/{shop['cola']}", json=body, headers=headers)

    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert costs_today(client, headers)[shop["cola"]] is None


def test_a_cost_body_that_is_not_json_is_refused(client, headers, shop):
    for method, path in (("POST", "/categories/items/costs"), ("PUT", f"/categories/items/costs/{shop['cola']}")):
        assert client.open(path, method=method, data="{", content_type="application/json",
                           headers=headers).status_code == 400
        assert client.open(path, method=method, data="cost=1", headers=headers,
                           content_type="application/x-www-form-urlencoded").status_code == 415


def test_a_cost_history_keeps_each_change_and_the_menu_shows_todays_cost(client, headers, shop):
    cola = shop["cola"]
    client.put(f"/categories/items/costs/{cola}", json={"cost": 600, "effective_date": days_ago(10)}, headers=headers)
    client.post("/categories/items/costs", json={"items": [{"item_id": cola, "cost": 700}],
                                                 "effective_date": days_ago(3)}, headers=headers)
    client.put(f"/categories/items/costs/{cola}", json={"cost": 900, "effective_date": days_ago(-5)}, headers=headers)

    assert history(client, headers, days_ago(20), days_ago(0), cola)[cola] == [(days_ago(10), 600), (days_ago(3), 700)]
    assert history(client, headers, days_ago(5), days_ago(0), cola)[cola] == [(days_ago(10), 600), (days_ago(3), 700)]
    assert history(client, headers, days_ago(2), days_ago(0), cola)[cola] == [(days_ago(3), 700)]
    assert history(client, headers, days_ago(20), days_ago(4), cola)[cola] == [(days_ago(10), 600)]
    assert history(client, headers, days_ago(30), days_ago(20), cola)[cola] == []
    assert history(client, headers, days_ago(0), days_ago(-10), cola)[cola] == [(days_ago(3), 700), (days_ago(-5), 900)]
    assert costs_today(client, headers)[cola] == 700
    assert menu(client, headers)[1]["items"][0]["cost"] == 700


def test_a_second_change_on_the_same_day_replaces_the_first(client, headers, shop):
    cola = shop["cola"]
    client.put(f"/categories/items/costs/{cola}", json={"cost": 600}, headers=headers)
    client.put(f"/categories/items/costs/{cola}", json={"cost": 650}, headers=headers)

    assert history(client, headers, days_ago(1), days_ago(0), cola)[cola] == [(days_ago(0), 650)]
    assert costs_today(client, headers)[cola] == 650


def test_a_cost_dated_366_days_back_is_accepted(client, headers, shop):
    response = client.put(f"/categories/items/costs/{shop['cola']}",
                          json={"cost": 1, "effective_date": days_ago(366)}, headers=headers)
    assert response.status_code == 200


def test_the_history_lists_the_asked_items_including_deleted_ones_and_only_them(client, headers, shop):
    client.put(f"/categories/items/costs/{shop['cola']}", json={"cost": 700}, headers=headers)
    client.put(f"/categories/items/costs/{shop['pepperoni']}", json={"cost": 9000}, headers=headers)
    client.delete(f"/categories/{shop['drinks']}", headers=headers)
    client.delete(f"/categories/items/{shop['potato']}", headers=headers)

    response = client.get("/internal/items/costs", headers=headers, query_string={
        "start": days_ago(1), "end": days_ago(0), "ids": f"{shop['potato']},{shop['cola']},{UNUSED_ID}"})

    assert response.get_json() == {"items": [
        {"item_id": shop["cola"], "name": "콜라", "costs": [{"effective_date": days_ago(0), "cost": 700}]},
        {"item_id": shop["potato"], "name": "포테이토 피자", "costs": []},
    ]}  # the pepperoni (and its cost) was not asked for; an id of no item is left out
    assert shop["cola"] not in costs_today(client, headers)


BAD_COST_IDS = {
    "missing": None,
    "empty": "",
    "letters": "abc",
    "empty entry": "1,,2",
    "zero": "0",
    "negative": "-1",
    "fraction": "1.5",
    "2001 ids": ",".join(str(n) for n in range(1, 2002)),
    "absurdly long number": "9" * 50,
}


@pytest.mark.parametrize("case", BAD_COST_IDS)
def test_a_cost_history_with_bad_ids_is_a_400_naming_ids(client, headers, case):
    query = {"start": days_ago(1), "end": days_ago(0)}
    if BAD_COST_IDS[case] is not None:
        query["ids"] = BAD_COST_IDS[case]

    response = client.get("/internal/items/costs", query_string=query, headers=headers)

    assert response.status_code == 400
    assert response.get_json()["field"] == "ids"


def test_a_cost_history_takes_as_many_ids_as_the_store_may_have_items(client, headers, shop):
    """SALESYNC_MAX_ITEMS_PER_STORE (2,000 by default) ids in one call, the asked items among them answered."""
    client.put(f"/categories/items/costs/{shop['cola']}", json={"cost": 700}, headers=headers)
    asked = [shop["cola"], *range(UNUSED_ID, UNUSED_ID + 1999)]

    response = client.get("/internal/items/costs", headers=headers, query_string={
        "start": days_ago(0), "end": days_ago(0), "ids": ",".join(map(str, asked))})

    assert response.status_code == 200
    assert response.get_json() == {"items": [
        {"item_id": shop["cola"], "name": "콜라", "costs": [{"effective_date": days_ago(0), "cost": 700}]}]}


@pytest.mark.parametrize("query,field", [
    ({}, "start"),
    ({"start": "2024-01-01"}, "end"),
    ({"start": "2024-1-1", "end": "2024-01-02"}, "start"),
    ({"start": "2024-01-01", "end": "tomorrow"}, "end"),
    ({"start": "2024-01-02", "end": "2024-01-01"}, "end"),
    ({"start": "2023-01-01", "end": "2024-12-31"}, "end"),
])
def test_a_cost_history_with_a_bad_period_is_a_400_naming_the_field(client, headers, query, field):
    response = client.get("/internal/items/costs", query_string=query, headers=headers)

    assert response.status_code == 400
    assert response.get_json()["field"] == field


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_cost_takes_effect_on_the_stores_own_business_day(client, new_store, zone):
    # UTC+14 and UTC-11 are always on different calendar days.
    _, headers = new_store(time_zone=zone)
    cola = add_item(client, headers, add_category(client, headers, "음료"), "콜라", 2000)
    store_today = datetime.datetime.now(zoneinfo.ZoneInfo(zone)).date()

    client.put(f"/categories/items/costs/{cola}", json={"cost": 700}, headers=headers)

    start = (store_today - datetime.timedelta(days=3)).isoformat()
    assert history(client, headers, start, store_today.isoformat(), cola)[cola] == [(store_today.isoformat(), 700)]
