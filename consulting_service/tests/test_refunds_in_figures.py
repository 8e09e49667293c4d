"""The figures the advice is written from net the refunds, as the owner's reports do: a refund takes its
sale's lines back on the day of the refund, at the cost of the day of the sale."""
import datetime
import zoneinfo

import pytest

from consulting_service.app.figures import period_figures, read_store_data
from testsupport.served import local_service_urls
from testsupport.settings import TEST_JWT_SECRET
from testsupport.shop import Http, Shop

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")


def days_ago(n):
    return datetime.datetime.now(SEOUL).date() - datetime.timedelta(days=n)


SOLD_ON, REFUNDED_ON = days_ago(3), days_ago(1)


@pytest.fixture
def diner(new_store, database_url, store_service, item_service, order_service, sale_service):
    """Three days ago a sale of 22,000 won (refunded yesterday) and one of 11,000; costs 4,000 and 400."""
    store_id, headers = new_store()
    urls = local_service_urls(store=store_service, item=item_service, order=order_service, sale=sale_service)
    diner = Shop(Http(urls), store_id=store_id, headers=headers, database_url=database_url)
    diner.build_menu({"식사": {"제육볶음": 11000, "공기밥": 1000}})
    diner.set_costs(effective_date=days_ago(10), 제육볶음=4000, 공기밥=400)
    refunded = diner.sell(SOLD_ON, table_no=1, 제육볶음=2)
    diner.sell(SOLD_ON, table_no=2, 제육볶음=1)
    diner.refund(refunded, day=REFUNDED_ON)
    return diner


def figures(store_data_client, diner, start, end):
    data = read_store_data(client=store_data_client, store_id=diner.store_id, start=start, end=end,
                           jwt_secret=TEST_JWT_SECRET, max_days=366)
    return period_figures(data, start=start, end=end)


def test_a_refunded_sale_is_in_none_of_the_periods_figures(store_data_client, diner):
    period = figures(store_data_client, diner, SOLD_ON, REFUNDED_ON)

    assert period["totals"]["revenue"]["value"] == 11000
    assert period["totals"]["refunds"]["value"] == 22000
    assert period["totals"]["payments"]["value"] == 2
    assert [(item["name"], item["quantity"], item["contribution"]) for item in period["items"]] == [
        ("제육볶음", 1, 7000)]
    assert period["not_sold"] == ["공기밥"]


def test_the_day_of_the_refund_takes_the_sale_back_and_classifies_nothing(store_data_client, diner):
    refund_day = figures(store_data_client, diner, REFUNDED_ON, REFUNDED_ON)

    assert refund_day["totals"]["revenue"]["value"] == -22000
    assert refund_day["items"] == []  # nothing sold that day: no item to classify
    assert refund_day["hours"] == []
