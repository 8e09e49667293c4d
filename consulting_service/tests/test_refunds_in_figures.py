"""The figures the consulting model reads net the refunds, as the owner's reports do."""
import datetime
import zoneinfo

import pytest

from consulting_service.app.figures import period_figures, sales_report
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


def figures(dashboard_client, diner, start, end):
    report = sales_report(client=dashboard_client, store_id=diner.store_id, start=start, end=end,
                          jwt_secret=TEST_JWT_SECRET)
    return period_figures(report, start=start, end=end)


def test_a_refunded_sale_is_in_none_of_the_periods_figures(dashboard_client, diner):
    period = figures(dashboard_client, diner, SOLD_ON, REFUNDED_ON)

    assert period["sales_volume"] == period["totals"]["revenue"] == 11000
    assert period["totals"]["cost"] == 4000 and period["totals"]["profit"] == 7000
    assert [(item["name"], item["quantity"], item["profit"]) for item in period["items"]] == [("제육볶음", 1, 7000)]
    assert period["totals"]["margin_pct"] == round(7000 * 100 / 11000, 1)


def test_the_day_of_the_refund_shows_the_sale_taken_back(dashboard_client, diner):
    refund_day = figures(dashboard_client, diner, REFUNDED_ON, REFUNDED_ON)

    assert refund_day["sales_volume"] == refund_day["totals"]["revenue"] == -22000
    assert refund_day["totals"]["profit"] == -(22000 - 2 * 4000)
    assert [(item["name"], item["quantity"]) for item in refund_day["items"]] == [("제육볶음", -2)]
    assert refund_day["totals"]["margin_pct"] is None and refund_day["items"][0]["margin_pct"] is None
