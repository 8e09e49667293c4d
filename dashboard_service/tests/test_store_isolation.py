import time

import pytest
from moto import mock_aws

from salesync_common.tokens import issue_token
from testsupport.settings import TEST_JWT_SECRET

from .conftest import days_ago, period, today


def test_another_store_sees_none_of_my_figures_on_any_route(client, shop):
    mine, theirs = shop(), shop()
    mine.set_costs(effective_date=days_ago(5), **{"콜라": 700})
    mine.sell(days_ago(1), **{"페퍼로니 피자": 2, "콜라": 3})
    query = period(days_ago(3), today())

    with mock_aws():
        assert client.get(f"/dashboard/calculate?date={days_ago(1).isoformat()}",
                          headers=mine.headers).get_json()["sent"] is True
        settled = client.get(f"/dashboard/calculate?date={days_ago(1).isoformat()}", headers=theirs.headers)
    sales = client.get(f"/dashboard/sales?{query}", headers=theirs.headers).get_json()
    days = client.get(f"/dashboard/volumes?{query}", headers=theirs.headers).get_json()

    assert sales["sales_volume"] == 0 and sales["items"] == []
    assert [day["sales_volume"] for day in days["total"]] == [0, 0, 0, 0]
    assert settled.get_json()["already_sent"] is False
    assert settled.get_json()["figures"]["sales_volume"] == 0 and settled.get_json()["figures"]["profit"] == 0
    mine_now = client.get(f"/dashboard/sales?{query}", headers=mine.headers).get_json()
    assert mine_now["sales_volume"] == 2 * 18000 + 3 * 2000


ROUTES = [
    ("GET", "/dashboard/sales?start=2024-01-01&end=2024-01-02", None),
    ("GET", "/dashboard/volumes?start=2024-01-01&end=2024-01-02", None),
    ("GET", "/dashboard/calculate?date=2024-01-01", None),
]


@pytest.mark.parametrize("method,path,body", ROUTES, ids=[f"{m} {p.split('?')[0]}" for m, p, _ in ROUTES])
@pytest.mark.parametrize("authorization", [
    None, "Bearer null", "Bearer ", "Token abc",
    "Bearer " + issue_token(store_id=1, secret="y" * 48, ttl_seconds=600),
    "Bearer " + issue_token(store_id=1, secret=TEST_JWT_SECRET, ttl_seconds=60, now=time.time() - 600),
], ids=["none", "null", "empty", "not bearer", "wrong secret", "expired"])
def test_every_dashboard_route_needs_a_valid_token(client, method, path, body, authorization):
    headers = {"Authorization": authorization, "X-CSRF-Token": "x"} if authorization else {}
    response = client.open(path, method=method, json=body, headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize("route", ["sales", "volumes"])
@pytest.mark.parametrize("query,field", [
    ("", "start"), ("?start=2024-01-01", "end"), ("?end=2024-01-01", "start"),
    ("?start=2024-1-1&end=2024-01-02", "start"), ("?start=2024-01-01&end=2024-13-01", "end"),
    ("?start=yesterday&end=2024-01-01", "start"), ("?start=2024-01-05&end=2024-01-01", "end"),
    ("?start=2023-01-01&end=2024-01-02", "end"),
])
def test_a_bad_period_is_a_400_naming_the_date(client, shop, route, query, field):
    response = client.get(f"/dashboard/{route}{query}", headers=shop().headers)
    assert response.status_code == 400 and response.get_json()["field"] == field


@pytest.mark.parametrize("route", ["sales", "volumes"])
def test_a_period_of_366_days_is_allowed(client, shop, route):
    response = client.get(f"/dashboard/{route}?start=2023-01-02&end=2024-01-02", headers=shop().headers)
    assert response.status_code == 200
