import threading

import pytest
from sqlalchemy import func, select

from item_service.app.models import Category, Item, db

from .conftest import UNUSED_ID, add_category, add_item, menu


def test_categories_are_listed_oldest_first_with_the_store_id(client, owner):
    store_id, headers = owner
    first = add_category(client, headers, "피자")
    second = add_category(client, headers, "음료")

    response = client.get("/categories/", headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"categories": [{"id": first, "name": "피자"}, {"id": second, "name": "음료"}],
                                   "store_id": store_id}


def test_a_new_store_has_no_categories(client, owner):
    store_id, headers = owner
    assert client.get("/categories/", headers=headers).get_json() == {"categories": [], "store_id": store_id}


def test_adding_a_category_answers_201_with_its_id(client, headers):
    response = client.post("/categories/", json={"name": "  사이드  "}, headers=headers)

    assert response.status_code == 201
    body = response.get_json()
    assert body == {"result": "success", "message": "카테고리 등록 성공", "id": body["id"]}
    assert isinstance(body["id"], int)
    assert client.get("/categories/", headers=headers).get_json()["categories"] == [{"id": body["id"],
                                                                                     "name": "사이드"}]


def test_a_store_id_sent_by_the_client_is_ignored(client, owner, new_store):
    other_id, other = new_store()
    _, headers = owner

    client.post(f"/categories/?store_id={other_id}", json={"name": "피자", "store_id": other_id}, headers=headers)

    assert client.get(f"/categories/?store_id={other_id}", headers=other).get_json()["categories"] == []
    assert [c["name"] for c in client.get("/categories/", headers=headers).get_json()["categories"]] == ["피자"]


def test_adding_a_category_with_a_taken_name_is_a_409(client, headers):
    add_category(client, headers, "피자")

    response = client.post("/categories/", json={"name": "피자"}, headers=headers)

    assert response.status_code == 409
    assert response.get_json()["error"] == "duplicate_category"
    assert response.get_json()["message"] == "존재하는 카테고리"
    assert len(client.get("/categories/", headers=headers).get_json()["categories"]) == 1


def test_two_stores_may_use_the_same_category_name(client, headers, new_store):
    _, other = new_store()
    add_category(client, headers, "피자")
    assert client.post("/categories/", json={"name": "피자"}, headers=other).status_code == 201


def test_a_deleted_categorys_name_can_be_used_again(client, headers):
    category_id = add_category(client, headers, "피자")
    client.delete(f"/categories/{category_id}", headers=headers)

    assert client.post("/categories/", json={"name": "피자"}, headers=headers).status_code == 201


def test_two_terminals_adding_the_same_category_at_once_create_one(app, headers):
    barrier = threading.Barrier(4)
    statuses = []

    def attempt():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/categories/", json={"name": "피자"}, headers=headers).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 409, 409, 409]
    assert len(app.test_client().get("/categories/", headers=headers).get_json()["categories"]) == 1


BAD_NAMES = {
    "missing": {},
    "null": {"name": None},
    "number": {"name": 12},
    "list": {"name": ["피자"]},
    "empty": {"name": ""},
    "only spaces": {"name": "   "},
    "too long": {"name": "가" * 51},
    "control character": {"name": "피\x00자"},
    # Sent as raw JSON text: the escape \ud83d alone decodes to a lone surrogate.
    "lone surrogate": '{"name": "\\ud83d"}',
}


def send(client, method, path, body, headers):
    if isinstance(body, str):
        return client.open(path, method=method, data=body, content_type="application/json", headers=headers)
    return client.open(path, method=method, json=body, headers=headers)


@pytest.mark.parametrize("case", BAD_NAMES)
def test_adding_a_category_with_a_bad_name_is_a_400_naming_the_field(client, headers, case):
    response = send(client, "POST", "/categories/", BAD_NAMES[case], headers)

    assert response.status_code == 400
    assert response.get_json()["field"] == "name"
    assert client.get("/categories/", headers=headers).get_json()["categories"] == []


def test_a_category_name_of_50_characters_is_accepted(client, headers):
    assert client.post("/categories/", json={"name": "가" * 50}, headers=headers).status_code == 201


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_body_that_is_not_json_is_refused(client, headers, method):
    category_id = add_category(client, headers)
    path = "/categories/" if method == "POST" else f"/categories/{category_id}"

    malformed = client.open(path, method=method, data="{name:", content_type="application/json", headers=headers)
    form = client.open(path, method=method, data={"name": "x"}, headers=headers)
    array = client.open(path, method=method, json=["x"], headers=headers)

    assert malformed.status_code == 400 and malformed.get_json()["error"] == "malformed_json"
    assert form.status_code == 415
    assert array.status_code == 400


def test_renaming_a_category_answers_201_and_changes_its_name(client, headers):
    category_id = add_category(client, headers, "피자")

    response = client.put(f"/categories/{category_id}", json={"name": "파스타"}, headers=headers)

    assert response.status_code == 201
    assert response.get_json() == {"result": "success", "message": "카테고리 수정 성공", "id": category_id}
    assert client.get("/categories/", headers=headers).get_json()["categories"] == [{"id": category_id,
                                                                                     "name": "파스타"}]


def test_renaming_a_category_to_its_own_name_is_a_success(client, headers):
    category_id = add_category(client, headers, "피자")
    assert client.put(f"/categories/{category_id}", json={"name": "피자"}, headers=headers).status_code == 201


def test_renaming_a_category_to_a_taken_name_is_a_409(client, headers):
    add_category(client, headers, "피자")
    drinks = add_category(client, headers, "음료")

    response = client.put(f"/categories/{drinks}", json={"name": "피자"}, headers=headers)

    assert response.status_code == 409
    assert response.get_json()["error"] == "duplicate_category"
    assert [c["name"] for c in client.get("/categories/", headers=headers).get_json()["categories"]] == ["피자", "음료"]


@pytest.mark.parametrize("case", BAD_NAMES)
def test_renaming_a_category_with_a_bad_name_is_a_400(client, headers, case):
    category_id = add_category(client, headers, "피자")

    response = send(client, "PUT", f"/categories/{category_id}", BAD_NAMES[case], headers)

    assert response.status_code == 400
    assert response.get_json()["field"] == "name"


@pytest.mark.parametrize("category_id", [0, UNUSED_ID, 2_147_483_648, 10**20])
def test_renaming_or_deleting_an_unknown_category_is_a_404(client, headers, category_id):
    renamed = client.put(f"/categories/{category_id}", json={"name": "x"}, headers=headers)
    deleted = client.delete(f"/categories/{category_id}", headers=headers)

    assert renamed.status_code == 404 and renamed.get_json()["message"] == "존재하지 않는 카테고리."
    assert deleted.status_code == 404 and deleted.get_json()["message"] == "카테고리가 존재하지 않습니다."


def test_renaming_a_deleted_category_is_a_404(client, headers):
    category_id = add_category(client, headers)
    client.delete(f"/categories/{category_id}", headers=headers)

    assert client.put(f"/categories/{category_id}", json={"name": "x"}, headers=headers).status_code == 404


def test_deleting_a_category_removes_it_and_its_items_from_the_menu(client, headers):
    pizza = add_category(client, headers, "피자")
    drinks = add_category(client, headers, "음료")
    potato = add_item(client, headers, pizza, "포테이토 피자")
    cola = add_item(client, headers, drinks, "콜라", 2000)

    response = client.delete(f"/categories/{pizza}", headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"result": "success", "message": "카테고리 삭제 성공", "category_id": pizza}
    assert client.get("/categories/", headers=headers).get_json()["categories"] == [{"id": drinks, "name": "음료"}]
    assert [c["category_id"] for c in menu(client, headers)] == [drinks]
    assert client.get(f"/categories/items/{potato}", headers=headers).status_code == 404
    found = client.get(f"/internal/items?ids={potato},{cola}", headers=headers).get_json()["items"]
    assert [item["item_id"] for item in found] == [cola]
    # The names of the deleted items are free again.
    assert client.post(f"/categories/{drinks}/items", json={"name": "포테이토 피자", "price": 1},
                       headers=headers).status_code == 201


def test_deleting_a_category_twice_is_a_404(client, headers):
    category_id = add_category(client, headers)
    client.delete(f"/categories/{category_id}", headers=headers)

    response = client.delete(f"/categories/{category_id}", headers=headers)

    assert response.status_code == 404
    assert response.get_json()["message"] == "카테고리가 존재하지 않습니다."


def test_the_menu_lists_categories_and_items_in_order_with_empty_categories(client, headers):
    pizza = add_category(client, headers, "피자")
    drinks = add_category(client, headers, "음료")
    sides = add_category(client, headers, "사이드")
    potato = add_item(client, headers, pizza, "포테이토 피자", 21000)
    cola = add_item(client, headers, drinks, "콜라", "2000")
    pepperoni = add_item(client, headers, pizza, "페퍼로니 피자", 24000.0)
    gone = add_item(client, headers, pizza, "하와이안 피자", 23000)
    client.delete(f"/categories/items/{gone}", headers=headers)

    assert menu(client, headers) == [
        {"category_id": pizza, "category_name": "피자", "items": [
            {"item_id": potato, "name": "포테이토 피자", "price": 21000, "cost": None},
            {"item_id": pepperoni, "name": "페퍼로니 피자", "price": 24000, "cost": None}]},
        {"category_id": drinks, "category_name": "음료", "items": [
            {"item_id": cola, "name": "콜라", "price": 2000, "cost": None}]},
        {"category_id": sides, "category_name": "사이드", "items": []},
    ]


def test_the_menu_of_a_new_store_is_empty(client, headers):
    assert menu(client, headers) == []


def test_items_added_while_their_category_is_deleted_never_outlive_it(app, headers):
    for round_no in range(3):
        category_id = add_category(app.test_client(), headers, f"피자{round_no}")
        barrier = threading.Barrier(4)

        def add(n, category_id=category_id, round_no=round_no, barrier=barrier):
            client = app.test_client()
            barrier.wait()
            client.post(f"/categories/{category_id}/items", json={"name": f"피자{round_no}-{n}", "price": 1},
                        headers=headers)

        deleted = []  # an assert inside a thread would not fail the test: the status is checked below

        def delete(category_id=category_id, barrier=barrier, deleted=deleted):
            client = app.test_client()
            barrier.wait()
            deleted.append(client.delete(f"/categories/{category_id}", headers=headers).status_code)

        threads = [threading.Thread(target=add, args=(n,)) for n in range(3)] + [threading.Thread(target=delete)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert deleted == [200]

    with app.app_context():
        orphans = db.session.scalar(select(func.count()).select_from(Item).join(
            Category, Category.category_id == Item.category_id).where(Item.enabled, ~Category.enabled))
    assert orphans == 0
