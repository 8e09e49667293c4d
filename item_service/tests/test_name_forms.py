"""Category and item names: no hidden characters, and one name whatever Unicode form it is typed in.

A look-alike ("콜라" with a zero-width space, or with its syllables typed as jamo) must not pass the
duplicate-name 409, and a name must not carry characters that reorder or hide what the POS shows.
"""
import unicodedata
import uuid

import pytest
from sqlalchemy import create_engine, text

from item_service.app.models import Category, Item, db
from salesync_common.migrate import upgrade
from testsupport.postgres import drop_database, ensure_database, with_database
from testsupport.settings import settings_for_tests

from .conftest import add_category, add_item, menu

COLA = "콜라"
COLA_JAMO = unicodedata.normalize("NFD", COLA)        # five conjoining jamo, shown as the same two syllables
CAFE = "Café"
CAFE_DECOMPOSED = "Cafe\u0301"                          # e + combining acute accent
assert COLA_JAMO != COLA and len(COLA_JAMO) == 5

HIDDEN = {
    "zero-width space": "콜\u200b라",
    "zero-width joiner": "콜라\u200d",
    "right-to-left override": "\u202e라콜",
    "left-to-right isolate": "\u2066콜라\u2069",
    "byte order mark": "\ufeff콜라",
    "soft hyphen": "콜\u00ad라",
    "bell (control)": "콜\x07라",
    "newline inside": "콜\n라",
    "C1 control": "콜\x85라",
    "line separator": "콜\u2028라",
    "hangul filler (look-alike)": "콜라\u3164",
    "hangul choseong filler": "콜\u115f라",
    "hangul jungseong filler": "콜\u1160라",
    "halfwidth hangul filler": "콜라\uffa0",
    "combining grapheme joiner": "콜\u034f라",
    "variation selector-16": "콜라\ufe0f",
    "variation selector-17": "콜라\U000e0100",
    "braille blank inside": "콜\u2800라",
}


@pytest.fixture
def pizza(client, headers):
    return add_category(client, headers, "피자")


@pytest.mark.parametrize("name", HIDDEN.values(), ids=HIDDEN.keys())
def test_a_category_name_with_a_hidden_character_is_a_400_naming_the_field(client, headers, name):
    response = client.post("/categories/", json={"name": name}, headers=headers)

    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "name" and body["error"] == "invalid_field"
    assert "invisible" in body["message"]
    assert menu(client, headers) == []


@pytest.mark.parametrize("name", HIDDEN.values(), ids=HIDDEN.keys())
def test_an_item_name_with_a_hidden_character_is_a_400_naming_the_field(client, headers, pizza, name):
    item_id = add_item(client, headers, pizza, "사이다")

    added = client.post(f"/categories/{pizza}/items", json={"name": name, "price": 1}, headers=headers)
    renamed = client.put(f"/categories/items/{item_id}", json={"name": name, "price": 1}, headers=headers)

    for response in (added, renamed):
        assert response.status_code == 400
        assert response.get_json()["field"] == "name"
    assert [item["name"] for item in menu(client, headers)[0]["items"]] == ["사이다"]


BLANK = {"hangul filler": "\u3164", "braille blank": "\u2800", "fillers and spaces": " \u115f\u1160 \uffa0",
         "ideographic space": "\u3000"}


@pytest.mark.parametrize("name", BLANK.values(), ids=BLANK.keys())
def test_a_name_showing_no_character_is_a_400_naming_the_field(client, headers, pizza, name):
    item_id = add_item(client, headers, pizza, "사이다")

    answers = [client.post("/categories/", json={"name": name}, headers=headers),
               client.put(f"/categories/{pizza}", json={"name": name}, headers=headers),
               client.post(f"/categories/{pizza}/items", json={"name": name, "price": 1}, headers=headers),
               client.put(f"/categories/items/{item_id}", json={"name": name, "price": 1}, headers=headers)]

    for response in answers:
        assert response.status_code == 400
        body = response.get_json()
        assert body["field"] == "name" and body["error"] == "invalid_field"
        assert "visible" in body["message"]
    assert [(category["category_name"], [item["name"] for item in category["items"]])
            for category in menu(client, headers)] == [("피자", ["사이다"])]


def test_a_look_alike_with_a_hangul_filler_does_not_become_a_second_pizza(client, headers, pizza):
    response = client.post("/categories/", json={"name": "피자\u3164"}, headers=headers)

    assert response.status_code == 400 and response.get_json()["field"] == "name"
    assert "U+3164" in response.get_json()["message"]
    assert [category["category_name"] for category in menu(client, headers)] == ["피자"]


def test_renaming_a_category_to_a_name_with_a_bidi_override_is_a_400(client, headers, pizza):
    response = client.put(f"/categories/{pizza}", json={"name": "\u202e자피"}, headers=headers)
    assert response.status_code == 400 and response.get_json()["field"] == "name"
    assert menu(client, headers)[0]["category_name"] == "피자"


def test_a_decomposed_name_is_stored_composed(client, headers, app):
    category_id = add_category(client, headers, CAFE_DECOMPOSED)
    item_id = add_item(client, headers, category_id, COLA_JAMO)

    assert menu(client, headers)[0]["category_name"] == CAFE
    assert menu(client, headers)[0]["items"][0]["name"] == COLA
    with app.app_context():
        assert db.session.get(Category, category_id).name == CAFE
        assert db.session.get(Item, item_id).name == COLA


@pytest.mark.parametrize("stored,sent", [(COLA, COLA_JAMO), (COLA_JAMO, COLA), (CAFE, CAFE_DECOMPOSED)],
                         ids=["composed, then jamo", "jamo, then composed", "é, then e + accent"])
def test_a_category_in_another_unicode_form_of_a_taken_name_is_a_409(client, headers, stored, sent):
    add_category(client, headers, stored)

    response = client.post("/categories/", json={"name": sent}, headers=headers)

    assert response.status_code == 409
    assert response.get_json()["error"] == "duplicate_category"
    assert len(menu(client, headers)) == 1


def test_an_item_in_another_unicode_form_of_a_taken_name_is_a_409(client, headers, pizza):
    add_item(client, headers, pizza, COLA)
    cider = add_item(client, headers, pizza, "사이다")

    added = client.post(f"/categories/{pizza}/items", json={"name": COLA_JAMO, "price": 1}, headers=headers)
    renamed = client.put(f"/categories/items/{cider}", json={"name": COLA_JAMO, "price": 1}, headers=headers)

    for response in (added, renamed):
        assert response.status_code == 409
        assert response.get_json()["error"] == "duplicate_item"
    assert sorted(item["name"] for item in menu(client, headers)[0]["items"]) == ["사이다", COLA]


def test_a_renamed_category_in_another_form_of_a_taken_name_is_a_409(client, headers, pizza):
    add_category(client, headers, CAFE)
    response = client.put(f"/categories/{pizza}", json={"name": CAFE_DECOMPOSED}, headers=headers)
    assert response.status_code == 409
    assert sorted(category["category_name"] for category in menu(client, headers)) == [CAFE, "피자"]


# ---- names stored before this change: the migration 0002_surface --------------------------------------

@pytest.fixture
def old_item_database(database_url):
    """A database of its own, migrated to 0001 (before names were normalised)."""
    name = f"salesync_nfc_{uuid.uuid4().hex[:8]}"
    url = ensure_database(with_database(database_url, "postgres"), name)
    settings = settings_for_tests("item", url)
    upgrade("item", settings, revision="0001")
    yield settings
    drop_database(with_database(database_url, "postgres"), name)


def test_the_migration_composes_stored_names_unless_a_composed_twin_is_enabled(old_item_database):
    engine = create_engine(old_item_database.database_url)
    rows = [  # (category_id, store_id, name, enabled)
        (1, 1, CAFE_DECOMPOSED, True),     # alone: composed
        (2, 1, COLA, True),                # its twin below stays decomposed
        (3, 1, COLA_JAMO, True),
        (4, 2, COLA_JAMO, False),          # deleted: composed (no unique index on deleted rows)
        (5, 2, COLA, True),
        (6, 3, "피자", True),              # already composed: untouched
    ]
    with engine.begin() as connection:
        for category_id, store_id, name, enabled in rows:
            connection.execute(text("INSERT INTO item.categories (category_id, store_id, name, enabled) "
                                    "VALUES (:id, :store, :name, :enabled)"),
                               {"id": category_id, "store": store_id, "name": name, "enabled": enabled})
        connection.execute(text("INSERT INTO item.items (item_id, store_id, category_id, name, price) "
                                "VALUES (1, 1, 1, :name, 100)"), {"name": CAFE_DECOMPOSED})

    upgrade("item", old_item_database)

    with engine.connect() as connection:
        names = dict(connection.execute(text("SELECT category_id, name FROM item.categories")).all())
        item_name = connection.execute(text("SELECT name FROM item.items WHERE item_id = 1")).scalar_one()
        version = connection.execute(text("SELECT version_num FROM item.alembic_version")).scalar_one()
    engine.dispose()
    assert names == {1: CAFE, 2: COLA, 3: COLA_JAMO, 4: COLA, 5: COLA, 6: "피자"}
    assert item_name == CAFE
    assert version == "0002_surface"
