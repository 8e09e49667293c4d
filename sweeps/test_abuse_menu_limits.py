"""Lists with bounds (issue 14, point 3), driven through the BFF against the running services at the default
settings.

- A store has at most 200 enabled categories and 2,000 enabled items: the next `POST /categories/` or
  `POST /categories/<id>/items` answers 409 (`category_limit_reached` / `item_limit_reached`) with the
  limit in its message; a deleted one frees its place; ten parallel creates a few places short of the limit
  fill exactly those places. Most of the 2,000 items go straight into the item service's database (the
  sweep is about the limit, not about 2,000 requests); the last ones and every refused one go through the
  BFF, and the menu read through the BFF then lists exactly 2,000 items.
- Every report period is at most 366 days: 367 answers 400 naming `end` on each public route that takes a
  period; 366 answers 200.

Every request to the BFF is counted under "abuse: menu and list bounds".
"""
from __future__ import annotations

import concurrent.futures
import datetime
import uuid

import pytest
from sqlalchemy import func, insert, select

from bff.app.schemas import Error
from item_service.app.models import Category, Item, db
from testsupport import shop as scenario

from .support import PASSWORD, Browser

TALLY = "abuse: menu and list bounds"
MAX_CATEGORIES, MAX_ITEMS, MAX_DAYS = 200, 2000, 366
PERIOD_ROUTES = ["/sales/period", "/bff/sales", "/bff/volumes", "/consulting/"]


def new_owner(base_url: str) -> tuple[Browser, int]:
    browser = Browser(base_url, tally=TALLY)
    pos = scenario.Shop(browser.send).sign_up(username=f"sweep{uuid.uuid4().hex[:10]}", password=PASSWORD,
                                              store_name=f"메뉴가게{uuid.uuid4().hex[:4]}")
    browser.token = pos.token
    return browser, pos.store_id


@pytest.fixture(scope="module")
def item_app(item_service):
    return item_service.server.app


def enabled(item_app, model, store_id: int) -> int:
    with item_app.app_context():
        return db.session.scalar(select(func.count()).where(model.store_id == store_id, model.enabled))


def fill(item_app, model, rows: list[dict]) -> None:
    with item_app.app_context():
        db.session.execute(insert(model), rows)
        db.session.commit()


def add_category(browser: Browser, name: str):
    return browser.request("POST", "/categories/", {"name": name})


def add_item(browser: Browser, category_id: int, name: str):
    return browser.request("POST", f"/categories/{category_id}/items", {"name": name, "price": 1000})


def assert_limit(response, *, error: str, limit: int, words: str) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    Error.model_validate(body)
    assert (body["result"], body["error"], body["limit"]) == ("failed", error, limit)
    assert words in body["message"], body["message"]


def in_parallel(count: int, call) -> list:
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def test_the_201st_category_answers_409_and_parallel_creates_stop_at_200(bff_served, item_app):
    owner, store_id = new_owner(bff_served.url)
    for n in range(MAX_CATEGORIES - 5):
        assert add_category(owner, f"분류{n}").status_code == 201

    answers = in_parallel(10, lambda n: add_category(owner, f"동시{n}"))

    assert sorted(answer.status_code for answer in answers) == [201] * 5 + [409] * 5
    assert enabled(item_app, Category, store_id) == MAX_CATEGORIES
    assert_limit(add_category(owner, "이백하나"), error="category_limit_reached", limit=MAX_CATEGORIES,
                 words="200개")
    listed = owner.call("GET", "/categories/")["categories"]
    assert len(listed) == MAX_CATEGORIES

    owner.call("DELETE", f"/categories/{listed[0]['id']}")
    assert add_category(owner, "빈자리").status_code == 201
    assert enabled(item_app, Category, store_id) == MAX_CATEGORIES


def test_the_2001st_item_answers_409_and_parallel_creates_stop_at_2000(bff_served, item_app):
    owner, store_id = new_owner(bff_served.url)
    categories = [owner.call("POST", "/categories/", {"name": name}, expect=201)["id"] for name in ("피자", "음료")]
    fill(item_app, Item, [{"store_id": store_id, "category_id": categories[n % 2], "name": f"품목{n}", "price": 1000}
                          for n in range(MAX_ITEMS - 10)])
    for n in range(5):
        assert add_item(owner, categories[1], f"마지막{n}").status_code == 201

    answers = in_parallel(10, lambda n: add_item(owner, categories[n % 2], f"동시{n}"))

    assert sorted(answer.status_code for answer in answers) == [201] * 5 + [409] * 5
    assert enabled(item_app, Item, store_id) == MAX_ITEMS
    assert_limit(add_item(owner, categories[0], "이천하나"), error="item_limit_reached", limit=MAX_ITEMS,
                 words="2,000개")
    menu = owner.call("GET", "/categories/items")["categories"]
    assert sum(len(category["items"]) for category in menu) == MAX_ITEMS

    first = menu[0]["items"][0]["item_id"]
    owner.call("DELETE", f"/categories/items/{first}")
    assert add_item(owner, categories[0], "빈자리").status_code == 201
    assert enabled(item_app, Item, store_id) == MAX_ITEMS


@pytest.mark.parametrize("path", PERIOD_ROUTES)
def test_a_report_period_of_367_days_answers_400_naming_end_and_366_answers(bff_served, path):
    owner, _ = new_owner(bff_served.url)
    end = datetime.date(2024, 12, 31)
    longest = end - datetime.timedelta(days=MAX_DAYS - 1)

    too_long = owner.request("GET", f"{path}?start={longest - datetime.timedelta(days=1)}&end={end}")

    assert too_long.status_code == 400, too_long.text
    assert (too_long.json()["field"], too_long.json()["max_days"]) == ("end", MAX_DAYS)
    assert owner.request("GET", f"{path}?start={longest}&end={end}").status_code == 200
