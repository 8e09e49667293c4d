import contextlib

import pytest
from sqlalchemy import event

from item_service.app.models import db

from .conftest import UNUSED_ID, add_category, add_item, seoul_today


@contextlib.contextmanager
def counted_queries(app):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def lookup(client, headers, ids):
    response = client.get("/internal/items", query_string={"ids": ids}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_the_lookup_answers_the_callers_items_with_their_category(client, headers):
    pizza = add_category(client, headers, "피자")
    drinks = add_category(client, headers, "음료")
    cola = add_item(client, headers, drinks, "콜라", 2000)
    potato = add_item(client, headers, pizza, "포테이토 피자", 21000)

    assert lookup(client, headers, f"{potato},{cola}") == [
        {"item_id": cola, "name": "콜라", "price": 2000, "category_id": drinks, "category_name": "음료"},
        {"item_id": potato, "name": "포테이토 피자", "price": 21000, "category_id": pizza, "category_name": "피자"},
    ]


def test_unknown_deleted_and_foreign_ids_are_simply_absent_from_the_lookup(client, headers, new_store):
    _, other = new_store()
    pizza = add_category(client, headers, "피자")
    kept = add_item(client, headers, pizza, "포테이토 피자")
    deleted = add_item(client, headers, pizza, "하와이안 피자")
    client.delete(f"/categories/items/{deleted}", headers=headers)
    foreign = add_item(client, other, add_category(client, other, "피자"), "남의 피자")

    found = lookup(client, headers, f" {kept} ,{deleted},{foreign},{kept},{UNUSED_ID},99999999999")

    assert [item["item_id"] for item in found] == [kept]


def test_the_lookup_of_200_ids_is_one_query(app, client, headers):
    pizza = add_category(client, headers, "피자")
    ids = [add_item(client, headers, pizza, f"피자{n}", 1000 + n) for n in range(5)]
    asked = ",".join(map(str, ids + list(range(10_000, 10_195))))

    with counted_queries(app) as statements:
        found = lookup(client, headers, asked)

    assert [item["item_id"] for item in found] == ids
    assert len(statements) == 1


def test_the_cost_history_takes_the_same_queries_whatever_the_number_of_items(app, client, headers):
    pizza = add_category(client, headers, "피자")
    period = {"start": seoul_today().isoformat(), "end": seoul_today().isoformat()}

    counts, ids = [], []
    for n in range(2):
        for m in range(5):
            item_id = add_item(client, headers, pizza, f"피자{n}-{m}", 1000)
            client.put(f"/categories/items/costs/{item_id}", json={"cost": 100}, headers=headers)
            ids.append(item_id)
        asked = {**period, "ids": ",".join(map(str, ids))}
        with counted_queries(app) as statements:
            assert client.get("/internal/items/costs", query_string=asked, headers=headers).status_code == 200
        counts.append(len(statements))

    assert counts == [1, 1]


BAD_IDS = {
    "missing": None,
    "empty": "",
    "letters": "abc",
    "empty entry": "1,,2",
    "trailing comma": "1,2,",
    "zero": "0",
    "negative": "-1",
    "fraction": "1.5",
    "201 ids": ",".join(str(n) for n in range(1, 202)),
    "non-ascii digits": "١٢",
    "absurdly long number": "9" * 50,
}


@pytest.mark.parametrize("case", BAD_IDS)
def test_a_lookup_with_bad_ids_is_a_400_naming_ids(client, headers, case):
    query = {} if BAD_IDS[case] is None else {"ids": BAD_IDS[case]}

    response = client.get("/internal/items", query_string=query, headers=headers)

    assert response.status_code == 400
    assert response.get_json()["field"] == "ids"
