import threading

import pytest
import requests

from testsupport.settings import service_headers


def order(client, headers, table_no, lines, method="POST", **extra):
    body = {"table_no": table_no, "carts": [{"item_id": i, "quantity": q} for i, q in lines], **extra}
    return client.open("/orders/", method=method, json=body, headers=headers)


def table(client, headers, table_no):
    return client.get(f"/orders/unpaids/{table_no}", headers=headers).get_json()


def test_an_order_shows_as_an_unpaid_table_with_the_server_total(client, shop):
    headers, items = shop

    placed = order(client, headers, 3, [(items["아메리카노"], 2), (items["치즈케이크"], 1)])

    assert placed.status_code == 200
    assert placed.get_json()["result"] == "success"
    assert placed.get_json()["total_price"] == 2 * 4500 + 6500
    view = table(client, headers, 3)
    assert view["total_price"] == 15500
    assert view["table_no"] == 3 and isinstance(view["order_id"], int)
    assert [(c["item_id"], c["item_name"], c["quantity"]) for c in view["carts"]] == [
        (items["아메리카노"], "아메리카노", 2), (items["치즈케이크"], "치즈케이크", 1)]


def test_the_kiosk_is_table_zero(client, shop):
    headers, items = shop
    assert order(client, headers, 0, [(items["카페라떼"], 1)]).status_code == 200
    assert table(client, headers, 0)["total_price"] == 5000


def test_a_free_table_answers_an_empty_cart(client, shop):
    headers, _ = shop
    view = table(client, headers, 5)
    assert view["carts"] == [] and view["total_price"] == 0 and view["order_id"] is None


def test_unpaid_tables_are_listed_by_table_number(client, shop):
    headers, items = shop
    for table_no in (8, 0, 2):
        order(client, headers, table_no, [(items["아메리카노"], table_no + 1)])

    body = client.get("/orders/unpaids", headers=headers).get_json()

    assert [o["table_no"] for o in body["orders"]] == [0, 2, 8]
    assert [o["total_price"] for o in body["orders"]] == [4500, 3 * 4500, 9 * 4500]
    assert all(isinstance(c["item_id"], int) for o in body["orders"] for c in o["carts"])


def test_an_empty_store_has_an_empty_unpaid_list(client, shop):
    headers, _ = shop
    assert client.get("/orders/unpaids", headers=headers).get_json()["orders"] == []


def test_the_same_item_on_two_lines_is_one_line(client, shop):
    headers, items = shop
    order(client, headers, 1, [(items["아메리카노"], 1), (items["아메리카노"], 2)])
    assert [(c["item_id"], c["quantity"]) for c in table(client, headers, 1)["carts"]] == [(items["아메리카노"], 3)]


def test_a_second_order_for_an_occupied_table_is_refused(client, shop):
    headers, items = shop
    order(client, headers, 4, [(items["아메리카노"], 1)])

    second = order(client, headers, 4, [(items["치즈케이크"], 5)])

    assert second.status_code == 409
    assert second.get_json()["error"] == "table_has_open_order"
    assert table(client, headers, 4)["total_price"] == 4500


def test_two_terminals_opening_one_table_at_once_make_one_order(app, shop):
    headers, items = shop
    barrier = threading.Barrier(5)
    statuses = []

    def attempt():
        client = app.test_client()
        barrier.wait()
        statuses.append(order(client, headers, 6, [(items["아메리카노"], 1)]).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(5)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert sorted(statuses) == [200, 409, 409, 409, 409]
    assert len(app.test_client().get("/orders/unpaids", headers=headers).get_json()["orders"]) == 1


def test_changing_an_order_replaces_its_cart_and_recomputes_the_total(client, shop):
    headers, items = shop
    order(client, headers, 2, [(items["아메리카노"], 1), (items["카페라떼"], 1)])

    changed = order(client, headers, 2, [(items["아메리카노"], 3), (items["치즈케이크"], 1)], method="PUT")

    assert changed.get_json()["result"] == "success"
    view = table(client, headers, 2)
    assert {c["item_id"]: c["quantity"] for c in view["carts"]} == {items["아메리카노"]: 3, items["치즈케이크"]: 1}
    assert view["total_price"] == 3 * 4500 + 6500


def test_an_ordered_item_keeps_its_price_when_the_menu_price_changes(client, shop, item_service):
    headers, items = shop
    order(client, headers, 1, [(items["아메리카노"], 1)])
    repriced = requests.put(f"{item_service.url}/categories/items/{items['아메리카노']}",
                            json={"name": "아메리카노", "price": 9000}, headers={**headers, **service_headers("item")},
                            timeout=10)
    assert repriced.status_code == 200

    order(client, headers, 1, [(items["아메리카노"], 2)], method="PUT")
    order(client, headers, 2, [(items["아메리카노"], 1)])

    assert table(client, headers, 1)["total_price"] == 2 * 4500
    assert table(client, headers, 2)["total_price"] == 9000


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_an_empty_cart_cancels_the_open_order(client, shop, method):
    headers, items = shop
    order(client, headers, 7, [(items["아메리카노"], 1)])

    cancelled = order(client, headers, 7, [], method=method)

    assert cancelled.get_json()["result"] == "cancelled"
    assert table(client, headers, 7)["carts"] == []
    assert order(client, headers, 7, [(items["카페라떼"], 1)]).status_code == 200


def test_an_empty_cart_for_a_free_table_changes_nothing(client, shop):
    headers, _ = shop
    assert order(client, headers, 7, []).get_json()["result"] == "failed"
    assert order(client, headers, 7, [], method="PUT").get_json()["result"] == "failed"
    assert client.get("/orders/unpaids", headers=headers).get_json()["orders"] == []


def test_changing_the_order_of_a_free_table_is_a_404(client, shop):
    headers, items = shop
    response = order(client, headers, 3, [(items["아메리카노"], 1)], method="PUT")
    assert response.status_code == 404
    assert table(client, headers, 3)["carts"] == []


def test_cancelling_a_table_frees_it_and_names_the_cancelled_order(client, shop):
    headers, items = shop
    order_id = order(client, headers, 5, [(items["아메리카노"], 1)]).get_json()["order_id"]

    first = client.delete("/orders/5", headers=headers).get_json()
    second = client.delete("/orders/5", headers=headers).get_json()

    assert first == {"result": "success", "message": "주문 삭제 성공", "table_no": 5, "orders": [order_id]}
    assert second["orders"] == []
    assert table(client, headers, 5)["carts"] == []


BAD_BODIES = [
    ({"carts": []}, "table_no"),
    ({"table_no": "3", "carts": []}, "table_no"),
    ({"table_no": -1, "carts": []}, "table_no"),
    ({"table_no": 100, "carts": []}, "table_no"),
    ({"table_no": True, "carts": []}, "table_no"),
    ({"table_no": 1.5, "carts": []}, "table_no"),
    ({"table_no": 1}, "carts"),
    ({"table_no": 1, "carts": "아메리카노"}, "carts"),
    ({"table_no": 1, "carts": [{"item_id": "abc", "quantity": 1}]}, "carts.0.item_id"),
    ({"table_no": 1, "carts": [{"item_id": 0, "quantity": 1}]}, "carts.0.item_id"),
    ({"table_no": 1, "carts": [{"quantity": 1}]}, "carts.0.item_id"),
    ({"table_no": 1, "carts": [{"item_id": "ITEM", "quantity": 0}]}, "carts.0.quantity"),
    ({"table_no": 1, "carts": [{"item_id": "ITEM", "quantity": -2}]}, "carts.0.quantity"),
    ({"table_no": 1, "carts": [{"item_id": "ITEM", "quantity": 1000}]}, "carts.0.quantity"),
    ({"table_no": 1, "carts": [{"item_id": "ITEM", "quantity": "2"}]}, "carts.0.quantity"),
    ({"table_no": 1, "carts": [{"item_id": "ITEM", "quantity": 600}, {"item_id": "ITEM", "quantity": 600}]}, "carts"),
]


def _filled(body, item_id):
    carts = body.get("carts")
    if isinstance(carts, list):
        body = {**body, "carts": [{k: (item_id if v == "ITEM" else v) for k, v in line.items()} for line in carts]}
    return body


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("body,field", BAD_BODIES, ids=[f for _, f in BAD_BODIES])
def test_a_bad_order_is_refused_naming_the_field_and_changes_nothing(client, shop, method, body, field):
    headers, items = shop
    order(client, headers, 1, [(items["카페라떼"], 1)])
    body = _filled(body, items["아메리카노"])

    response = client.open("/orders/", method=method, json=body, headers=headers)

    assert response.status_code == 400
    assert response.get_json()["field"].startswith(field.split(".")[0])
    assert response.get_json()["field"] == field
    assert table(client, headers, 1)["total_price"] == 5000


@pytest.mark.parametrize("data,content_type,status", [
    ('{"table_no": 1,', "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ("table_no=1", "application/x-www-form-urlencoded", 415),
])
def test_an_order_that_is_not_a_json_object_is_refused(client, shop, data, content_type, status):
    headers, _ = shop
    assert client.post("/orders/", data=data, content_type=content_type, headers=headers).status_code == status


def test_an_unknown_item_is_a_404_and_creates_no_order(client, shop):
    headers, items = shop
    response = order(client, headers, 1, [(items["아메리카노"], 1), (999999, 1)])
    assert response.status_code == 404
    assert response.get_json()["item_ids"] == [999999]
    assert table(client, headers, 1)["carts"] == []


def test_a_deleted_item_cannot_be_ordered(client, shop, item_service):
    headers, items = shop
    requests.delete(f"{item_service.url}/categories/items/{items['치즈케이크']}",
                    headers={**headers, **service_headers("item")}, timeout=10)
    assert order(client, headers, 1, [(items["치즈케이크"], 1)]).status_code == 404


@pytest.mark.parametrize("path", ["/orders/unpaids/100", "/orders/100"])
def test_a_table_number_out_of_range_is_a_400(client, shop, path):
    headers, _ = shop
    method = "DELETE" if path == "/orders/100" else "GET"
    assert client.open(path, method=method, headers=headers).status_code == 400
