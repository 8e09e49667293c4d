"""Categories, items and the menu tree through the BFF (API.md §3): shapes, integer ids, 201s and 409s."""


def test_categories_are_listed_oldest_first_with_integer_ids(pos):
    terminal = pos()
    listed = terminal.call("GET", "/categories/")
    assert [c["name"] for c in listed["categories"]] == ["피자", "음료"]
    assert [c["id"] for c in listed["categories"]] == [terminal.ids["피자"], terminal.ids["음료"]]
    assert listed["store_id"] == terminal.store_id


def test_a_duplicate_category_is_a_409_on_create_and_rename(pos):
    terminal = pos()
    assert terminal.request("POST", "/categories/", {"name": "피자"}).status_code == 409
    renamed = terminal.request("PUT", f"/categories/{terminal.ids['음료']}", {"name": "피자"})
    assert renamed.status_code == 409


def test_renaming_answers_201_and_deleting_removes_the_category(pos):
    terminal = pos()
    renamed = terminal.call("PUT", f"/categories/{terminal.ids['음료']}", {"name": "마실것"}, expect=201)
    assert renamed["id"] == terminal.ids["음료"]
    deleted = terminal.call("DELETE", f"/categories/{terminal.ids['음료']}")
    assert deleted["category_id"] == terminal.ids["음료"]
    assert [c["name"] for c in terminal.call("GET", "/categories/")["categories"]] == ["피자"]
    assert terminal.request("DELETE", f"/categories/{terminal.ids['음료']}").status_code == 404


def test_the_menu_tree_has_integer_prices_even_when_typed_as_strings(pos):
    terminal = pos()
    tree = terminal.call("GET", "/categories/items")["categories"]
    assert [(c["category_id"], c["category_name"]) for c in tree] == [
        (terminal.ids["피자"], "피자"), (terminal.ids["음료"], "음료")]
    assert [(i["item_id"], i["name"], i["price"], i["cost"]) for i in tree[0]["items"]] == [
        (terminal.ids["포테이토 피자"], "포테이토 피자", 21000, None),
        (terminal.ids["페퍼로니 피자"], "페퍼로니 피자", 24000, None)]


def test_an_item_is_added_changed_and_deleted_and_a_duplicate_is_a_409(pos):
    terminal = pos()
    duplicate = terminal.request("POST", f"/categories/{terminal.ids['음료']}/items", {"name": "콜라", "price": 2000})
    assert duplicate.status_code == 409

    changed = terminal.call("PUT", f"/categories/items/{terminal.ids['콜라']}", {"name": "콜라 500ml", "price": "2500"})
    assert changed["item_id"] == terminal.ids["콜라"]
    clash = terminal.request("PUT", f"/categories/items/{terminal.ids['콜라']}",
                             {"name": "포테이토 피자", "price": 2500, "category_id": terminal.ids["피자"]})
    assert clash.status_code == 409

    assert terminal.call("DELETE", f"/categories/items/{terminal.ids['콜라']}")["item_id"] == terminal.ids["콜라"]
    assert terminal.call("GET", "/categories/items")["categories"][1]["items"] == []
    assert terminal.request("DELETE", f"/categories/items/{terminal.ids['콜라']}").status_code == 404


def test_a_bad_price_is_a_400_naming_the_field(pos):
    terminal = pos()
    response = terminal.request("POST", f"/categories/{terminal.ids['음료']}/items",
                                {"name": "사이다", "price": "비쌈"})
    assert response.status_code == 400 and response.get_json()["field"] == "price"
