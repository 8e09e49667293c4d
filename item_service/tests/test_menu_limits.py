"""A store's menu has the size of a real shop's (issue 14, point 3): at most 200 enabled categories and
2,000 enabled items per store by default (SALESYNC_MAX_CATEGORIES_PER_STORE, SALESYNC_MAX_ITEMS_PER_STORE);
the next create answers 409 with the limit in its message; deleted ones do not count; parallel creates
cannot pass the limit."""
import threading

import pytest
from sqlalchemy import func, insert, select

from item_service.app import create_app
from item_service.app.models import Category, Item, db
from salesync_common.settings import ConfigError, Settings
from testsupport.clients import CheckedClient
from testsupport.settings import TEST_JWT_SECRET, migrated_settings

from .conftest import add_category, add_item


@pytest.fixture(scope="module")
def small_app(database_url, urls):
    """The item service with SALESYNC_MAX_CATEGORIES_PER_STORE=3, SALESYNC_MAX_ITEMS_PER_STORE=4 and
    SALESYNC_MAX_REPORT_DAYS=7."""
    settings = Settings.from_env("item", env={"SALESYNC_JWT_SECRET": TEST_JWT_SECRET,
                                              "SALESYNC_MAX_CATEGORIES_PER_STORE": "3",
                                              "SALESYNC_MAX_ITEMS_PER_STORE": "4",
                                              "SALESYNC_MAX_REPORT_DAYS": "7"})
    app = create_app(migrated_settings("item", database_url, service_urls=urls,
                                       max_categories_per_store=settings.max_categories_per_store,
                                       max_items_per_store=settings.max_items_per_store,
                                       max_report_days=settings.max_report_days))
    app.test_client_class = CheckedClient
    return app


@pytest.fixture
def small(small_app):
    return small_app.test_client()


def counts(app, store_id) -> tuple[int, int]:
    """(enabled categories, enabled items) of the store, read from the database."""
    with app.app_context():
        return (db.session.scalar(select(func.count()).where(Category.store_id == store_id, Category.enabled)),
                db.session.scalar(select(func.count()).where(Item.store_id == store_id, Item.enabled)))


def assert_limit(response, *, error, limit, words):
    assert response.status_code == 409, response.get_json()
    body = response.get_json()
    assert (body["result"], body["error"], body["limit"]) == ("failed", error, limit)
    assert words in body["message"], body["message"]


def test_the_fourth_category_past_a_limit_of_three_is_a_409_naming_the_limit(small, owner):
    store_id, headers = owner
    for n in range(3):
        add_category(small, headers, f"분류{n}")

    assert_limit(small.post("/categories/", json={"name": "넷째"}, headers=headers),
                 error="category_limit_reached", limit=3, words="3개")
    assert counts(small.application, store_id) == (3, 0)
    assert [c["name"] for c in small.get("/categories/", headers=headers).get_json()["categories"]] == [
        "분류0", "분류1", "분류2"]


def test_a_deleted_category_frees_its_place(small, owner):
    store_id, headers = owner
    ids = [add_category(small, headers, f"분류{n}") for n in range(3)]
    assert small.delete(f"/categories/{ids[0]}", headers=headers).status_code == 200

    add_category(small, headers, "새 분류")

    assert counts(small.application, store_id) == (3, 0)
    assert small.post("/categories/", json={"name": "또"}, headers=headers).status_code == 409


def test_one_store_at_its_limit_does_not_hold_another_back(small, owner, new_store):
    _, headers = owner
    for n in range(3):
        add_category(small, headers, f"분류{n}")
    _, other = new_store()
    add_category(small, other, "분류0")


def test_the_fifth_item_past_a_limit_of_four_is_a_409_naming_the_limit(small, owner):
    store_id, headers = owner
    pizza, drinks = add_category(small, headers, "피자"), add_category(small, headers, "음료")
    for n in range(2):
        add_item(small, headers, pizza, f"피자{n}")
        add_item(small, headers, drinks, f"음료{n}")

    assert_limit(small.post(f"/categories/{drinks}/items", json={"name": "사이다", "price": 2000}, headers=headers),
                 error="item_limit_reached", limit=4, words="4개")
    assert counts(small.application, store_id) == (2, 4)


def test_deleted_items_and_the_items_of_a_deleted_category_free_their_places(small, owner):
    store_id, headers = owner
    pizza, drinks = add_category(small, headers, "피자"), add_category(small, headers, "음료")
    first = add_item(small, headers, pizza, "피자0")
    add_item(small, headers, pizza, "피자1")
    add_item(small, headers, drinks, "콜라")
    add_item(small, headers, drinks, "사이다")
    assert small.delete(f"/categories/items/{first}", headers=headers).status_code == 200
    add_item(small, headers, drinks, "환타")
    assert small.post(f"/categories/{drinks}/items", json={"name": "물", "price": 1000},
                      headers=headers).status_code == 409

    assert small.delete(f"/categories/{pizza}", headers=headers).status_code == 200

    add_item(small, headers, drinks, "물")
    assert counts(small.application, store_id) == (1, 4)


def parallel(count, call) -> list:
    barrier = threading.Barrier(count)
    answers = [None] * count

    def run(n):
        barrier.wait()
        answers[n] = call(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_ten_parallel_category_creates_stop_at_the_limit(small_app, owner):
    store_id, headers = owner
    add_category(small_app.test_client(), headers, "먼저")

    answers = parallel(10, lambda n: small_app.test_client().post("/categories/", json={"name": f"동시{n}"},
                                                                  headers=headers))

    assert sorted(answer.status_code for answer in answers) == [201] * 2 + [409] * 8
    assert {answer.get_json()["error"] for answer in answers if answer.status_code == 409} == {
        "category_limit_reached"}
    assert counts(small_app, store_id) == (3, 0)


def test_ten_parallel_item_creates_stop_at_the_limit(small_app, owner):
    store_id, headers = owner
    client = small_app.test_client()
    pizza, drinks = add_category(client, headers, "피자"), add_category(client, headers, "음료")

    answers = parallel(10, lambda n: small_app.test_client().post(
        f"/categories/{(pizza, drinks)[n % 2]}/items", json={"name": f"동시{n}", "price": 1000}, headers=headers))

    assert sorted(answer.status_code for answer in answers) == [201] * 4 + [409] * 6
    assert {answer.get_json()["error"] for answer in answers if answer.status_code == 409} == {"item_limit_reached"}
    assert counts(small_app, store_id) == (2, 4)


def test_the_cost_history_answers_a_period_up_to_the_report_days_setting(small, owner):
    _, headers = owner
    week = small.get("/internal/items/costs?start=2024-03-01&end=2024-03-07&ids=1", headers=headers)
    assert week.status_code == 200, week.get_json()

    longer = small.get("/internal/items/costs?start=2024-03-01&end=2024-03-08&ids=1", headers=headers)

    assert longer.status_code == 400
    assert (longer.get_json()["field"], longer.get_json()["max_days"]) == ("end", 7)


def fill(app, model, rows) -> None:
    with app.app_context():
        db.session.execute(insert(model), rows)
        db.session.commit()


def test_at_the_default_a_store_has_200_categories_and_the_201st_is_refused(app, client, owner):
    store_id, headers = owner
    fill(app, Category, [{"store_id": store_id, "name": f"분류{n}"} for n in range(199)])
    # Deleted ones do not count.
    fill(app, Category, [{"store_id": store_id, "name": f"지운 분류{n}", "enabled": False} for n in range(5)])

    add_category(client, headers, "이백째")
    assert counts(app, store_id) == (200, 0)

    assert_limit(client.post("/categories/", json={"name": "이백하나"}, headers=headers),
                 error="category_limit_reached", limit=200, words="200개")
    assert counts(app, store_id) == (200, 0)


def test_at_the_default_a_store_has_2000_items_and_the_2001st_is_refused(app, client, owner):
    store_id, headers = owner
    pizza, drinks = add_category(client, headers, "피자"), add_category(client, headers, "음료")
    fill(app, Item, [{"store_id": store_id, "category_id": (pizza, drinks)[n % 2], "name": f"품목{n}",
                      "price": 1000} for n in range(1999)])
    fill(app, Item, [{"store_id": store_id, "category_id": pizza, "name": f"지운 품목{n}", "price": 1000,
                      "enabled": False} for n in range(5)])

    add_item(client, headers, drinks, "이천째")
    assert counts(app, store_id) == (2, 2000)

    assert_limit(client.post(f"/categories/{drinks}/items", json={"name": "이천하나", "price": 1000},
                             headers=headers), error="item_limit_reached", limit=2000, words="2,000개")
    assert counts(app, store_id) == (2, 2000)
    assert sum(len(category["items"]) for category in
               client.get("/categories/items", headers=headers).get_json()["categories"]) == 2000


def test_the_menu_limits_default_to_200_and_2000():
    settings = Settings.from_env("item", env={"SALESYNC_JWT_SECRET": TEST_JWT_SECRET})
    assert (settings.max_categories_per_store, settings.max_items_per_store) == (200, 2000)


@pytest.mark.parametrize("name", ["SALESYNC_MAX_CATEGORIES_PER_STORE", "SALESYNC_MAX_ITEMS_PER_STORE"])
@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_a_menu_limit_that_allows_nothing_is_refused_at_start(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env("item", env={"SALESYNC_JWT_SECRET": TEST_JWT_SECRET, name: value})


def test_the_cost_history_takes_at_most_the_item_limit_of_ids(small, owner):
    _, headers = owner
    period = "start=2024-03-01&end=2024-03-07"

    four = small.get(f"/internal/items/costs?{period}&ids=1,2,3,4", headers=headers)
    five = small.get(f"/internal/items/costs?{period}&ids=1,2,3,4,5", headers=headers)

    assert four.status_code == 200
    assert five.status_code == 400
    assert five.get_json()["field"] == "ids" and "4" in five.get_json()["message"]
