import threading

import pytest

from .conftest import UNUSED_ID, add_category, add_item, menu


@pytest.fixture
def pizza(client, headers):
    return add_category(client, headers, "피자")


def test_adding_an_item_answers_201_with_its_id(client, headers, pizza):
    response = client.post(f"/categories/{pizza}/items", json={"name": " 콜라 ", "price": 2000}, headers=headers)

    assert response.status_code == 201
    body = response.get_json()
    assert body == {"result": "success", "message": "품목 등록 성공", "id": body["id"]}
    assert isinstance(body["id"], int)
    assert client.get(f"/categories/items/{body['id']}", headers=headers).get_json()["item"] == {
        "item_id": body["id"], "name": "콜라", "price": 2000, "category_id": pizza}


GOOD_PRICES = [(2000, 2000), (20.0, 20), ("2000", 2000), (" 2000 ", 2000), (0, 0), ("0", 0),
               (100_000_000, 100_000_000)]


@pytest.mark.parametrize("sent,stored", GOOD_PRICES, ids=[repr(sent) for sent, _ in GOOD_PRICES])
def test_a_price_may_be_an_integer_an_integral_float_or_a_string_of_digits(client, headers, pizza, sent, stored):
    item_id = add_item(client, headers, pizza, "콜라", sent)
    assert client.get(f"/categories/items/{item_id}", headers=headers).get_json()["item"]["price"] == stored


BAD_PRICES = {
    "negative": -1,
    "negative string": "-1",
    "fraction": 20.5,
    "fraction string": "20.5",
    "letters": "abc",
    "empty string": "",
    "true": True,
    "false": False,
    "null": None,
    "over a hundred million": 100_000_001,
    "absurd": 10**30,
    "absurd float": 1e300,
    "absurd string": "9" * 40,
    "list": [2000],
    "object": {"won": 2000},
}


@pytest.mark.parametrize("case", BAD_PRICES)
def test_adding_an_item_with_a_bad_price_is_a_400_naming_price(client, headers, pizza, case):
    response = client.post(f"/categories/{pizza}/items", json={"name": "콜라", "price": BAD_PRICES[case]},
                           headers=headers)

    assert response.status_code == 400
    assert response.get_json()["field"] == "price"
    assert menu(client, headers)[0]["items"] == []


BAD_ITEM_BODIES = {
    "no name": ({"price": 1000}, "name"),
    "no price": ({"name": "콜라"}, "price"),
    "empty name": ({"name": "", "price": 1000}, "name"),
    "blank name": ({"name": "  ", "price": 1000}, "name"),
    "name too long": ({"name": "가" * 101, "price": 1000}, "name"),
    "name not text": ({"name": 123, "price": 1000}, "name"),
    "name null": ({"name": None, "price": 1000}, "name"),
    "name with a newline": ({"name": "콜\n라", "price": 1000}, "name"),
}


@pytest.mark.parametrize("case", BAD_ITEM_BODIES)
def test_adding_an_item_with_a_missing_or_bad_field_is_a_400_naming_it(client, headers, pizza, case):
    body, field = BAD_ITEM_BODIES[case]

    response = client.post(f"/categories/{pizza}/items", json=body, headers=headers)

    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_an_item_name_of_100_characters_is_accepted(client, headers, pizza):
    add_item(client, headers, pizza, "가" * 100)


def test_adding_an_item_with_a_taken_name_is_a_409_even_in_another_category(client, headers, pizza):
    drinks = add_category(client, headers, "음료")
    add_item(client, headers, pizza, "콜라")

    same_category = client.post(f"/categories/{pizza}/items", json={"name": "콜라", "price": 1}, headers=headers)
    other_category = client.post(f"/categories/{drinks}/items", json={"name": "콜라", "price": 1}, headers=headers)

    for response in (same_category, other_category):
        assert response.status_code == 409
        assert response.get_json()["error"] == "duplicate_item"
        assert response.get_json()["message"] == "존재하는 품목"


def test_a_deleted_items_name_can_be_used_again(client, headers, pizza):
    item_id = add_item(client, headers, pizza, "콜라")
    client.delete(f"/categories/items/{item_id}", headers=headers)
    add_item(client, headers, pizza, "콜라")


def test_two_terminals_adding_the_same_item_at_once_create_one(app, headers, pizza):
    barrier = threading.Barrier(4)
    statuses = []

    def attempt():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(f"/categories/{pizza}/items", json={"name": "콜라", "price": 2000},
                                    headers=headers).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 409, 409, 409]


@pytest.mark.parametrize("path_id", [str(UNUSED_ID), "0", "abc", "-1", "1.5", "99999999999"])
def test_adding_an_item_to_a_category_that_does_not_exist_is_a_404(client, headers, path_id):
    response = client.post(f"/categories/{path_id}/items", json={"name": "콜라", "price": 1}, headers=headers)
    assert response.status_code == 404


def test_adding_an_item_to_a_deleted_category_is_a_404(client, headers, pizza):
    client.delete(f"/categories/{pizza}", headers=headers)

    response = client.post(f"/categories/{pizza}/items", json={"name": "콜라", "price": 1}, headers=headers)

    assert response.status_code == 404
    assert response.get_json()["error"] == "category_not_found"


def test_reading_an_item_shows_its_fields(client, headers, pizza):
    item_id = add_item(client, headers, pizza, "포테이토 피자", 21000)

    response = client.get(f"/categories/items/{item_id}", headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"result": "success", "message": "품목 조회 성공", "item": {
        "item_id": item_id, "name": "포테이토 피자", "price": 21000, "category_id": pizza}}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("item_id", [0, UNUSED_ID, 99_999_999_999])
def test_an_unknown_item_is_a_404(client, headers, method, item_id):
    response = client.open(f"/categories/items/{item_id}", method=method, json={"name": "x", "price": 1},
                           headers=headers)

    assert response.status_code == 404
    assert response.get_json() == {"result": "failed", "error": "item_not_found",
                                   "message": "품목이 존재하지 않습니다."}


def test_editing_an_item_changes_its_name_and_price(client, headers, pizza):
    item_id = add_item(client, headers, pizza, "콜라", 2000)

    response = client.put(f"/categories/items/{item_id}", json={"name": "콜라 500ml", "price": "2500"},
                          headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"result": "success", "message": "품목 수정 성공", "item_id": item_id}
    assert client.get(f"/categories/items/{item_id}", headers=headers).get_json()["item"] == {
        "item_id": item_id, "name": "콜라 500ml", "price": 2500, "category_id": pizza}


def test_editing_an_item_can_move_it_to_another_category(client, headers, pizza):
    drinks = add_category(client, headers, "음료")
    item_id = add_item(client, headers, pizza, "콜라", 2000)

    response = client.put(f"/categories/items/{item_id}", json={"name": "콜라", "price": 2000, "category_id": drinks},
                          headers=headers)

    assert response.status_code == 200
    assert [(c["category_id"], [i["item_id"] for i in c["items"]]) for c in menu(client, headers)] == [
        (pizza, []), (drinks, [item_id])]


def test_moving_an_item_to_a_category_that_does_not_exist_is_a_404(client, headers, pizza):
    item_id = add_item(client, headers, pizza, "콜라", 2000)
    gone = add_category(client, headers, "음료")
    client.delete(f"/categories/{gone}", headers=headers)

    for category_id in (gone, UNUSED_ID):
        response = client.put(f"/categories/items/{item_id}",
                              json={"name": "콜라", "price": 1, "category_id": category_id}, headers=headers)
        assert response.status_code == 404
        assert response.get_json()["error"] == "category_not_found"
    assert client.get(f"/categories/items/{item_id}", headers=headers).get_json()["item"]["price"] == 2000


def test_editing_an_item_to_keep_its_own_name_is_a_success(client, headers, pizza):
    item_id = add_item(client, headers, pizza, "콜라", 2000)
    assert client.put(f"/categories/items/{item_id}", json={"name": "콜라", "price": 2100},
                      headers=headers).status_code == 200


def test_renaming_an_item_to_a_taken_name_is_a_409(client, headers, pizza):
    add_item(client, headers, pizza, "콜라", 2000)
    cider = add_item(client, headers, pizza, "사이다", 2000)

    response = client.put(f"/categories/items/{cider}", json={"name": "콜라", "price": 9}, headers=headers)

    assert response.status_code == 409
    assert response.get_json()["error"] == "duplicate_item"
    assert client.get(f"/categories/items/{cider}", headers=headers).get_json()["item"]["name"] == "사이다"


EDIT_BODIES = {
    **{f"price {case}": ({"name": "콜라", "price": price}, "price") for case, price in BAD_PRICES.items()},
    **BAD_ITEM_BODIES,
    "category_id as text": ({"name": "콜라", "price": 1, "category_id": "2"}, "category_id"),
    "category_id negative": ({"name": "콜라", "price": 1, "category_id": -2}, "category_id"),
}


@pytest.mark.parametrize("case", EDIT_BODIES)
def test_editing_an_item_with_a_missing_or_bad_field_is_a_400_naming_it(client, headers, pizza, case):
    item_id = add_item(client, headers, pizza, "콜라", 2000)
    body, field = EDIT_BODIES[case]

    response = client.put(f"/categories/items/{item_id}", json=body, headers=headers)

    assert response.status_code == 400
    assert response.get_json()["field"] == field


@pytest.mark.parametrize("method,path", [("POST", "/categories/{category_id}/items"),
                                         ("PUT", "/categories/items/{item_id}")])
def test_an_item_body_that_is_not_json_is_refused(client, headers, pizza, method, path):
    item_id = add_item(client, headers, pizza, "콜라", 2000)
    path = path.format(category_id=pizza, item_id=item_id)

    malformed = client.open(path, method=method, data='{"name": "콜라",', content_type="application/json",
                            headers=headers)
    text = client.open(path, method=method, data="name=콜라&price=1", content_type="text/plain", headers=headers)
    empty = client.open(path, method=method, data="", content_type="application/json", headers=headers)

    assert malformed.status_code == 400
    assert text.status_code == 415
    assert empty.status_code == 400


def test_deleting_an_item_hides_it_from_the_menu_and_lookups(client, headers, pizza):
    item_id = add_item(client, headers, pizza, "콜라", 2000)

    response = client.delete(f"/categories/items/{item_id}", headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"result": "success", "message": "품목 삭제 성공", "item_id": item_id}
    assert menu(client, headers)[0]["items"] == []
    assert client.get(f"/categories/items/{item_id}", headers=headers).status_code == 404
    assert client.get(f"/internal/items?ids={item_id}", headers=headers).get_json() == {"items": []}


def test_deleting_an_item_twice_is_a_404(client, headers, pizza):
    item_id = add_item(client, headers, pizza, "콜라", 2000)
    client.delete(f"/categories/items/{item_id}", headers=headers)

    response = client.delete(f"/categories/items/{item_id}", headers=headers)

    assert response.status_code == 404
    assert response.get_json()["message"] == "품목이 존재하지 않습니다."


def test_editing_a_deleted_item_is_a_404(client, headers, pizza):
    item_id = add_item(client, headers, pizza, "콜라", 2000)
    client.delete(f"/categories/items/{item_id}", headers=headers)

    assert client.put(f"/categories/items/{item_id}", json={"name": "콜라", "price": 1},
                      headers=headers).status_code == 404
