"""The demo store of `make run` has a history that tells a story, and the advice over its last week tells it
back: one item of each menu class, an item without a cost, one never sold, an empty afternoon, a week down."""
import datetime

import pytest

from consulting_service.app.advice import rule_based_advice
from consulting_service.app.figures import period_figures, read_store_data
from local_run.demo_seed import SEOUL, seed_demo_store
from salesync_common.service_client import ServiceClient
from testsupport.served import local_service_urls, serve_service
from testsupport.settings import TEST_JWT_SECRET, settings_for_tests
from testsupport.shop import Http, Shop


@pytest.fixture
def bff(store_service, item_service, order_service, sale_service):
    served = serve_service("bff", None, store=store_service, item=item_service, order=order_service,
                           sale=sale_service)
    yield served
    served.shutdown()


def test_the_demo_stores_last_week_tells_its_story(database_url, bff, order_service, sale_service, item_service,
                                                   tmp_path):
    credentials = seed_demo_store(urls={"bff": bff.url}, database_url=database_url, state=tmp_path)
    owner = Shop(Http(bff.url, headers={"X-CSRF-Token": "csrf"}))
    owner.form = credentials
    store_id = owner.log_in()["store_id"]
    end = datetime.datetime.now(SEOUL).date() - datetime.timedelta(days=1)
    start = end - datetime.timedelta(days=6)
    client = ServiceClient(settings_for_tests("consulting", database_url, service_urls=local_service_urls(
        order=order_service, sale=sale_service, item=item_service)))

    figures = period_figures(read_store_data(client=client, store_id=store_id, start=start, end=end,
                                             jwt_secret=TEST_JWT_SECRET, max_days=366), start=start, end=end)
    text = rule_based_advice(figures)
    print(f"\n{text}")

    classes = {item["name"]: item["class"] for item in figures["items"]}
    assert classes == {"아메리카노": "Star", "카페라떼": "Star", "딸기스무디": "Plowhorse", "티라미수": "Puzzle",
                       "마카롱": "Dog", "크루아상": None}
    assert figures["not_sold"] == ["유자차"]
    assert figures["empty_hours"] == [14, 15, 16]
    assert figures["totals"]["revenue"]["change_pct"] < -10
    for name, menu_class in [("아메리카노", "Star"), ("딸기스무디", "Plowhorse"), ("티라미수", "Puzzle"),
                             ("마카롱", "Dog")]:
        assert any(line.startswith(f"- {name}:") and f"({menu_class})" in line for line in text.splitlines())
