import pytest
import requests

from dashboard_service.app import create_app
from testsupport.clients import CheckedClient
from testsupport.settings import settings_for_tests

from .conftest import days_ago, period


def item_costs(shop):
    """The cost list as the item service itself answers it."""
    return requests.get(shop.urls["item"] + "/categories/items/costs", headers=shop.headers, timeout=10).json()


def test_the_cost_list_is_the_item_services_own(client, shop):
    pizzeria = shop()
    pizzeria.set_costs(**{"콜라": 700})

    response = client.get("/dashboard/costs", headers=pizzeria.headers)

    assert response.status_code == 200
    assert response.get_json() == item_costs(pizzeria)
    assert {item["name"]: item["cost"] for item in response.get_json()["items"]} == {
        "페퍼로니 피자": None, "포테이토 피자": None, "콜라": 700}


def test_costs_set_in_bulk_and_one_by_one_reach_the_item_service(client, shop):
    pizzeria = shop()
    pepperoni, potato, cola = (pizzeria.items[name] for name in ("페퍼로니 피자", "포테이토 피자", "콜라"))

    bulk = client.post("/dashboard/costs", headers=pizzeria.headers, json={"items": [
        {"item_id": pepperoni, "cost": 6000}, {"item_id": potato, "cost": "8000"}, {"item_id": cola, "cost": None},
    ]})
    one = client.put(f"/dashboard/costs/{cola}", headers=pizzeria.headers, json={"cost": 700})

    assert bulk.status_code == 200 and bulk.get_json()["message"] == "원가 등록 성공"
    assert [(item["item_id"], item["cost"]) for item in bulk.get_json()["items"]] == [
        (pepperoni, 6000), (potato, 8000), (cola, None)]
    assert one.status_code == 200 and one.get_json()["item"]["cost"] == 700
    assert {item["item_id"]: item["cost"] for item in item_costs(pizzeria)["items"]} == {
        pepperoni: 6000, potato: 8000, cola: 700}


def test_a_cost_with_an_effective_date_counts_from_that_day(client, shop):
    pizzeria = shop()
    pizzeria.sell(days_ago(2), **{"콜라": 1})
    cola = pizzeria.items["콜라"]

    assert client.put(f"/dashboard/costs/{cola}", headers=pizzeria.headers,
                      json={"cost": 500, "effective_date": days_ago(2).isoformat()}).status_code == 200
    assert client.post("/dashboard/costs", headers=pizzeria.headers, json={
        "items": [{"item_id": cola, "cost": 900}], "effective_date": days_ago(1).isoformat()}).status_code == 200

    days = client.get(f"/dashboard/volumes?{period(days_ago(2), days_ago(1))}", headers=pizzeria.headers)
    assert days.get_json()["total"][0]["profit"] == 2000 - 500


def test_another_stores_item_is_a_404_and_changes_nothing(client, shop):
    mine, theirs = shop(), shop()
    cola = mine.items["콜라"]

    put = client.put(f"/dashboard/costs/{cola}", headers=theirs.headers, json={"cost": 1})
    post = client.post("/dashboard/costs", headers=theirs.headers, json={"items": [{"item_id": cola, "cost": 1}]})

    assert put.status_code == 404 and post.status_code == 404
    assert post.get_json()["item_ids"] == [cola]
    assert all(item["cost"] is None for item in item_costs(mine)["items"])
    assert client.put("/dashboard/costs/99999999999", headers=theirs.headers, json={"cost": 1}).status_code == 404


@pytest.mark.parametrize("body,field", [
    ({}, "items"),
    ({"items": "all"}, "items"),
    ({"items": [{"cost": 1}]}, "items.0.item_id"),
    ({"items": [{"item_id": "7", "cost": 1}]}, "items.0.item_id"),
    ({"items": [{"item_id": 0, "cost": 1}]}, "items.0.item_id"),
    ({"items": [{"item_id": 7}]}, "items.0.cost"),
    ({"items": [{"item_id": 7, "cost": -1}]}, "items.0.cost"),
    ({"items": [{"item_id": 7, "cost": 10.5}]}, "items.0.cost"),
    ({"items": [{"item_id": 7, "cost": True}]}, "items.0.cost"),
    ({"items": [{"item_id": 7, "cost": 1}, {"item_id": 7, "cost": 2}]}, "items"),
    ({"items": [], "effective_date": "tomorrow"}, "effective_date"),
])
def test_a_bad_bulk_body_is_a_400_naming_the_field(client, shop, body, field):
    response = client.post("/dashboard/costs", headers=shop().headers, json=body)
    assert response.status_code == 400 and response.get_json()["field"] == field


@pytest.mark.parametrize("body,field", [
    ({}, "cost"), ({"cost": None}, "cost"), ({"cost": "abc"}, "cost"), ({"cost": -5}, "cost"),
    ({"cost": 1, "effective_date": "2024-02-30"}, "effective_date"),
])
def test_a_bad_cost_body_is_a_400_naming_the_field(client, shop, body, field):
    pizzeria = shop()
    response = client.put(f"/dashboard/costs/{pizzeria.items['콜라']}", headers=pizzeria.headers, json=body)
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_the_item_services_own_refusals_are_passed_on(client, shop):
    pizzeria = shop()
    too_dear = client.put(f"/dashboard/costs/{pizzeria.items['콜라']}", headers=pizzeria.headers,
                          json={"cost": 100_000_001})
    too_old = client.put(f"/dashboard/costs/{pizzeria.items['콜라']}", headers=pizzeria.headers,
                         json={"cost": 1, "effective_date": "2001-01-01"})
    assert too_dear.status_code == 400 and too_dear.get_json()["field"] == "cost"
    assert too_old.status_code == 400 and too_old.get_json()["field"] == "effective_date"


def test_a_body_that_is_not_json_is_refused(client, shop):
    headers = shop().headers
    assert client.post("/dashboard/costs", headers=headers, data="items=1").status_code == 415
    assert client.post("/dashboard/costs", headers=headers, data="{", content_type="application/json"
                       ).status_code == 400


def test_an_item_service_that_cannot_be_reached_is_a_503(database_url, urls, shop):
    headers = shop().headers
    app = create_app(settings_for_tests("dashboard", database_url, http_get_retries=0,
                                        service_urls={**urls, "item": "http://127.0.0.1:9"}))
    app.test_client_class = CheckedClient

    response = app.test_client().get("/dashboard/costs", headers=headers)

    assert response.status_code == 503
    assert response.get_json()["error"] == "upstream_unavailable" and response.get_json()["service"] == "item"
