"""Issue 13, point 9: refunds in every figure, driven through the BFF as the POS and the owner see it.

A store sells two tables two days ago (costs in force since ten days ago; the pepperoni's cost rises
yesterday), then refunds one of them today. Everything the owner reads for today (revenue, item
quantities, sales and profit, the daily volumes, the settlement) must fall by exactly the refunded
sale: its price, its quantities and its margin at the cost of the day it was sold. The sale's own
day stays as it was, and over the whole period the refunded sale shows nowhere.
"""
from __future__ import annotations

import datetime

import pytest

from testsupport import shop as scenario

from .support import PASSWORD, TODAY, Browser

TALLY = "abuse: refunds in every figure"
SOLD_ON, COST_RISES = TODAY - datetime.timedelta(days=2), TODAY - datetime.timedelta(days=1)
PRICES = {"페퍼로니": 18000, "포테이토": 21000, "콜라": 2000}
COSTS_THEN = {"페퍼로니": 6000, "포테이토": 8000, "콜라": 500}
REFUNDED = {"페퍼로니": 2, "콜라": 3}      # 42,000 won, margin 42,000 − 2×6,000 − 3×500 = 28,500
KEPT = {"페퍼로니": 1, "포테이토": 1}       # 39,000 won


@pytest.fixture(scope="module")
def store(bff_served, database_url, no_aws):
    browser = Browser(bff_served.url, tally=TALLY)
    pos = scenario.Shop(browser.send, database_url=database_url).sign_up(password=PASSWORD, store_name="환불스윕")
    browser.token = pos.token
    pos.headers = browser.headers
    pos.build_menu({"피자": {name: str(price) for name, price in PRICES.items()}})
    pos.set_costs(effective_date=TODAY - datetime.timedelta(days=10), **COSTS_THEN)
    refunded = pos.sell(SOLD_ON, table_no=1, **REFUNDED)
    pos.sell(SOLD_ON, table_no=2, payment_type="현금", **KEPT)
    pos.set_costs(effective_date=COST_RISES, 페퍼로니=9000)  # the refund must take back 6,000, not 9,000
    pos.sell(table_no=3, 콜라=1)  # today, kept: today's figures are not just the refund
    return browser, pos, refunded


def figures(browser: Browser, start: datetime.date, end: datetime.date) -> dict:
    """What the owner reads for start..end: items by name, daily volumes, and the revenue of each day."""
    period = f"start={start.isoformat()}&end={end.isoformat()}"
    sales = browser.call("GET", f"/bff/sales?{period}")
    volumes = browser.call("GET", f"/bff/volumes?{period}")["total"]
    days = [datetime.date.fromisoformat(day["date"]) for day in volumes]
    return {"revenue": sales["sales_volume"],
            "items": {item["name"]: (item["quantity"], item["sales_volume"], item["profit"])
                      for item in sales["items"]},
            "days": {day["date"]: (day["sales_volume"], day["profit"]) for day in volumes},
            "daily": {day.isoformat(): browser.call("GET", f"/sales/daily?date={day.isoformat()}")["sales_volume"]
                      for day in days}}


def settlement(browser: Browser, day: datetime.date, resend: bool) -> dict:
    query = f"date={day.isoformat()}" + ("&resend=true" if resend else "")
    return browser.call("GET", f"/dashboard/calculate?{query}")["figures"]


def test_a_refund_takes_exactly_its_sale_out_of_every_figure_on_its_day(store):
    browser, pos, refunded = store
    today_before, sold_before, whole_before = (figures(browser, TODAY, TODAY), figures(browser, SOLD_ON, SOLD_ON),
                                               figures(browser, SOLD_ON, TODAY))
    settled_before = settlement(browser, TODAY, resend=False)

    browser.call("DELETE", f"/sales/{refunded['id']}")

    today_after, sold_after, whole_after = (figures(browser, TODAY, TODAY), figures(browser, SOLD_ON, SOLD_ON),
                                            figures(browser, SOLD_ON, TODAY))
    settled_after = settlement(browser, TODAY, resend=True)
    price = sum(PRICES[name] * n for name, n in REFUNDED.items())
    margin = price - sum(COSTS_THEN[name] * n for name, n in REFUNDED.items())
    assert (price, margin) == (42000, 28500)
    day = TODAY.isoformat()

    # Today: revenue, each item's quantity, sales and profit, the day's volume and the settlement all fall
    # by exactly the refunded sale.
    assert today_after["revenue"] == today_before["revenue"] - price == 2000 - 42000
    assert today_after["daily"][day] == today_before["daily"][day] - price == today_after["revenue"]
    assert today_after["items"] == {"콜라": (1 - 3, 2000 - 6000, 1500 - 3 * 1500),
                                    "페퍼로니": (-2, -36000, -(36000 - 2 * 6000))}
    for name, n in REFUNDED.items():
        before = today_before["items"].get(name, (0, 0, 0))
        assert today_after["items"][name] == (before[0] - n, before[1] - PRICES[name] * n,
                                              before[2] - (PRICES[name] - COSTS_THEN[name]) * n)
    assert today_after["days"][day] == (today_before["days"][day][0] - price, today_before["days"][day][1] - margin)
    assert sum(item[1] for item in today_after["items"].values()) == today_after["revenue"]
    assert sum(item[2] for item in today_after["items"].values()) == today_after["days"][day][1]
    assert settled_after["sales_volume"] == settled_before["sales_volume"] - price == today_after["revenue"]
    assert settled_after["profit"] == settled_before["profit"] - margin == today_after["days"][day][1]
    assert settled_after["refunds"] == settled_before["refunds"] + price == price

    # The day of the sale keeps it; over the period the refunded sale shows nowhere.
    assert sold_after == sold_before
    assert sold_after["revenue"] == sold_after["daily"][SOLD_ON.isoformat()] == 42000 + 39000
    assert whole_after["revenue"] == whole_before["revenue"] - price == 39000 + 2000
    assert whole_after["items"] == {"포테이토": (1, 21000, 13000), "페퍼로니": (1, 18000, 12000),
                                    "콜라": (1, 2000, 1500)}
    assert sum(item[1] for item in whole_after["items"].values()) == whole_after["revenue"]
    assert sum(profit for _, profit in whole_after["days"].values()) == sum(
        item[2] for item in whole_after["items"].values()) == 13000 + 12000 + 1500
    assert {date: volume for date, (volume, _) in whole_after["days"].items()} == whole_after["daily"]
