"""Every route needs a valid token and touches only the token's store (API.md Decisions 1 and 2)."""
import time

import jwt
import pytest

from salesync_common.tokens import issue_token
from testsupport.settings import TEST_JWT_SECRET

from .conftest import add_category, add_item, seoul_today

TODAY = seoul_today().isoformat()

ROUTES = [
    ("GET", "/categories/", None),
    ("POST", "/categories/", {"name": "새 카테고리"}),
    ("PUT", "/categories/{category_id}", {"name": "새 이름"}),
    ("DELETE", "/categories/{category_id}", None),
    ("GET", "/categories/items", None),
    ("POST", "/categories/{category_id}/items", {"name": "새 품목", "price": 1}),
    ("GET", "/categories/items/{item_id}", None),
    ("PUT", "/categories/items/{item_id}", {"name": "새 품목", "price": 1}),
    ("DELETE", "/categories/items/{item_id}", None),
    ("GET", "/categories/items/costs", None),
    ("POST", "/categories/items/costs", {"items": [{"item_id": "{item_id}", "cost": 1}]}),
    ("PUT", "/categories/items/costs/{item_id}", {"cost": 1}),
    ("GET", "/internal/items?ids={item_id}", None),
    ("GET", f"/internal/items/costs?start={TODAY}&end={TODAY}&ids={{item_id}}", None),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in ROUTES]


def fill(value, ids):
    """The body or path with the victim's ids put in (ids stay JSON integers)."""
    if isinstance(value, str):
        return int(ids["item_id"]) if value == "{item_id}" else value.format(**ids)
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    return value


@pytest.fixture
def victim(client, owner):
    """A store with a category, an item and a cost, and a snapshot of everything it can read."""
    store_id, headers = owner
    category_id = add_category(client, headers, "피자")
    item_id = add_item(client, headers, category_id, "포테이토 피자", 21000)
    client.put(f"/categories/items/costs/{item_id}", json={"cost": 2100}, headers=headers)
    ids = {"category_id": category_id, "item_id": item_id}
    return ids, lambda: snapshot(client, headers, ids)


def snapshot(client, headers, ids):
    return [client.get(path.format(**ids), headers=headers).get_json() for path in (
        "/categories/", "/categories/items", "/categories/items/{item_id}", "/categories/items/costs",
        f"/internal/items?ids={ids['item_id']}",
        f"/internal/items/costs?start={TODAY}&end={TODAY}&ids={ids['item_id']}")]


def bad_authorizations(store_id):
    good = issue_token(store_id=store_id, secret=TEST_JWT_SECRET, ttl_seconds=600)
    return {
        "no header": None,
        "Bearer null": "Bearer null",
        "Bearer undefined": "Bearer undefined",
        "no Bearer prefix": good,
        "garbage": "Bearer not.a.jwt",
        "wrong secret": "Bearer " + jwt.encode({"sub": str(store_id), "iat": 1, "exp": 9999999999},
                                                "x" * 48, algorithm="HS256"),
        "expired": "Bearer " + issue_token(store_id=store_id, secret=TEST_JWT_SECRET, ttl_seconds=60,
                                           now=time.time() - 3600),
    }


@pytest.mark.parametrize("case", list(bad_authorizations(1)))
@pytest.mark.parametrize("method,path,body", ROUTES, ids=ROUTE_IDS)
def test_every_route_answers_401_to_a_missing_or_bad_token_and_changes_nothing(
        client, owner, victim, method, path, body, case):
    store_id, _ = owner
    ids, read_all = victim
    before = read_all()
    authorization = bad_authorizations(store_id)[case]
    headers = {"Authorization": authorization} if authorization else {}

    response = client.open(fill(path, ids), method=method, json=fill(body, ids), headers=headers)

    assert response.status_code == 401, case
    assert read_all() == before


def test_a_token_of_a_store_that_no_longer_exists_cannot_read_costs(client):
    headers = {"Authorization": "Bearer " + issue_token(store_id=987_654, secret=TEST_JWT_SECRET, ttl_seconds=600)}
    # The store service does not know the store, so there is no business day to date the costs by.
    assert client.get("/categories/items/costs", headers=headers).status_code == 401


ID_ROUTES = [(method, path, body) for method, path, body in ROUTES
             if "{" in path or (body and "{item_id}" in str(body))]


@pytest.mark.parametrize("method,path,body", ID_ROUTES, ids=[f"{m} {p}" for m, p, _ in ID_ROUTES])
def test_another_store_cannot_reach_a_category_or_item_by_its_id(client, new_store, victim, method, path, body):
    ids, read_all = victim
    before = read_all()
    _, intruder = new_store()

    response = client.open(fill(path, ids), method=method, json=fill(body, ids), headers=intruder)

    if path.startswith("/internal/items"):  # lookups by ids leave another store's ids out
        assert response.status_code == 200 and response.get_json() == {"items": []}
    else:
        assert response.status_code == 404
        assert response.get_json()["error"] in ("category_not_found", "item_not_found")
    assert read_all() == before


def test_another_store_sees_none_of_the_first_stores_data(client, new_store, victim):
    intruder_id, intruder = new_store()

    assert client.get("/categories/", headers=intruder).get_json() == {"categories": [], "store_id": intruder_id}
    assert client.get("/categories/items", headers=intruder).get_json() == {"categories": []}
    assert client.get("/categories/items/costs", headers=intruder).get_json()["items"] == []
    victims_item = victim[0]["item_id"]
    assert client.get(f"/internal/items/costs?start={TODAY}&end={TODAY}&ids={victims_item}",
                      headers=intruder).get_json() == {"items": []}


def test_another_store_may_reuse_the_names_without_touching_the_first_store(client, new_store, victim):
    _, read_all = victim
    before = read_all()
    _, other = new_store()

    category_id = add_category(client, other, "피자")
    item_id = add_item(client, other, category_id, "포테이토 피자", 1)
    client.put(f"/categories/items/costs/{item_id}", json={"cost": 1}, headers=other)
    client.delete(f"/categories/{category_id}", headers=other)

    assert read_all() == before


def test_the_csrf_header_is_accepted_and_never_required(client, headers):
    assert client.get("/categories/", headers={**headers, "X-CSRF-Token": "anything"}).status_code == 200
    assert client.get("/categories/", headers=headers).status_code == 200
