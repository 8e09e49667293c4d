import datetime
import zoneinfo

import pytest

from testsupport.fixtures import service_fixtures

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
# A valid integer id far beyond any row a test creates (ids keep counting across tests).
UNUSED_ID = 2_000_000_000


# Time zones come from the real store service, called over HTTP with the caller's token.
urls, app, client, clean_tables = service_fixtures("item", calls=("store",))


@pytest.fixture
def owner(new_store):
    """A signed-up store (Asia/Seoul): (store_id, Authorization headers)."""
    return new_store()


@pytest.fixture
def headers(owner):
    return owner[1]


def seoul_today() -> datetime.date:
    return datetime.datetime.now(SEOUL).date()


def add_category(client, headers, name="피자") -> int:
    response = client.post("/categories/", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def add_item(client, headers, category_id, name="포테이토 피자", price=21000) -> int:
    response = client.post(f"/categories/{category_id}/items", json={"name": name, "price": price}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def menu(client, headers) -> list[dict]:
    response = client.get("/categories/items", headers=headers)
    assert response.status_code == 200
    return response.get_json()["categories"]
