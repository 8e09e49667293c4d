"""A refund takes its sale's lines out of every figure on the business day it is made, the day its revenue
falls: item quantities, sales and profit, the daily volumes and the settlement."""
import datetime

import pytest

from dashboard_service.app import sms

from .conftest import days_ago, period

SOLD_ON, QUIET, REFUNDED_ON = days_ago(3), days_ago(2), days_ago(1)


@pytest.fixture
def pizzeria(shop):
    """Three days ago: a sale of 57,000 won (margin 37,000) later refunded, and one of 22,000 (profit 15,000)
    kept; yesterday: the refund, and a cola sold (profit 1,500)."""
    pizzeria = shop(store_name="환불피자", phone="01012345678")
    pizzeria.set_costs(effective_date=days_ago(10), **{"페퍼로니 피자": 6000, "포테이토 피자": 8000, "콜라": 500})
    refunded = pizzeria.sell(SOLD_ON, table_no=1, **{"페퍼로니 피자": 2, "포테이토 피자": 1})
    pizzeria.sell(SOLD_ON, table_no=2, payment_type="현금", **{"페퍼로니 피자": 1, "콜라": 2})
    pizzeria.refund(refunded, day=REFUNDED_ON)
    pizzeria.sell(REFUNDED_ON, table_no=3, **{"콜라": 1})
    return pizzeria


def item(pizzeria, name, quantity, sales_volume, profit):
    return {"item_id": pizzeria.items[name], "name": name, "quantity": quantity, "sales_volume": sales_volume,
            "profit": profit, "cost_missing": False}


def sales(client, pizzeria, start, end):
    response = client.get(f"/dashboard/sales?{period(start, end)}", headers=pizzeria.headers)
    assert response.status_code == 200
    return response.get_json()


def volumes(client, pizzeria, start, end):
    response = client.get(f"/dashboard/volumes?{period(start, end)}", headers=pizzeria.headers)
    assert response.status_code == 200
    return response.get_json()["total"]


def test_the_sale_stays_counted_on_the_day_it_was_made(client, pizzeria):
    body = sales(client, pizzeria, SOLD_ON, SOLD_ON)

    assert body["sales_volume"] == 57000 + 22000
    assert body["items"] == [item(pizzeria, "페퍼로니 피자", 3, 54000, 54000 - 3 * 6000),
                             item(pizzeria, "포테이토 피자", 1, 21000, 21000 - 8000),
                             item(pizzeria, "콜라", 2, 4000, 4000 - 2 * 500)]


def test_the_refund_takes_its_lines_out_on_the_day_it_is_made(client, pizzeria):
    body = sales(client, pizzeria, REFUNDED_ON, REFUNDED_ON)

    assert body["sales_volume"] == 2000 - 57000
    assert body["items"] == [item(pizzeria, "콜라", 1, 2000, 1500),
                             item(pizzeria, "포테이토 피자", -1, -21000, -(21000 - 8000)),
                             item(pizzeria, "페퍼로니 피자", -2, -36000, -(36000 - 2 * 6000))]
    assert sum(line["sales_volume"] for line in body["items"]) == body["sales_volume"]


def test_over_the_period_the_refunded_sale_shows_nowhere(client, pizzeria):
    body = sales(client, pizzeria, SOLD_ON, REFUNDED_ON)

    assert body["sales_volume"] == 22000 + 2000
    assert body["items"] == [item(pizzeria, "페퍼로니 피자", 1, 18000, 12000),
                             item(pizzeria, "콜라", 3, 6000, 6000 - 3 * 500)]
    assert sum(line["sales_volume"] for line in body["items"]) == body["sales_volume"]


def test_the_daily_volumes_fall_on_the_day_of_the_refund_as_revenue_does(client, pizzeria):
    days = volumes(client, pizzeria, SOLD_ON, REFUNDED_ON)

    assert days == [
        {"date": SOLD_ON.isoformat(), "sales_volume": 79000, "profit": 37000 + 15000, "cost_missing": False},
        {"date": QUIET.isoformat(), "sales_volume": 0, "profit": 0, "cost_missing": False},
        {"date": REFUNDED_ON.isoformat(), "sales_volume": -55000, "profit": 1500 - 37000, "cost_missing": False},
    ]
    for day in days:  # each day agrees with the item report and the revenue of that day
        date = datetime.date.fromisoformat(day["date"])
        one_day = sales(client, pizzeria, date, date)
        assert one_day["sales_volume"] == day["sales_volume"]
        assert sum(line["profit"] for line in one_day["items"]) == day["profit"]
    assert sum(day["profit"] for day in days) == 15000 + 1500


def test_a_refund_takes_back_the_cost_of_the_day_of_the_sale(client, pizzeria):
    pizzeria.set_costs(effective_date=QUIET, **{"페퍼로니 피자": 9000})  # dearer after the sale, before the refund

    refund_day = sales(client, pizzeria, REFUNDED_ON, REFUNDED_ON)
    whole = sales(client, pizzeria, SOLD_ON, REFUNDED_ON)
    [day] = volumes(client, pizzeria, REFUNDED_ON, REFUNDED_ON)

    assert item(pizzeria, "페퍼로니 피자", -2, -36000, -(36000 - 2 * 6000)) in refund_day["items"]
    assert item(pizzeria, "페퍼로니 피자", 1, 18000, 12000) in whole["items"]
    assert day["profit"] == 1500 - 37000


def test_an_item_whose_cost_was_missing_on_the_day_of_sale_is_flagged_on_the_day_of_its_refund(client, shop):
    pizzeria = shop()
    sale = pizzeria.sell(SOLD_ON, **{"콜라": 2})
    pizzeria.set_costs(effective_date=QUIET, **{"콜라": 500})
    pizzeria.refund(sale, day=REFUNDED_ON)

    [day] = volumes(client, pizzeria, REFUNDED_ON, REFUNDED_ON)

    assert day == {"date": REFUNDED_ON.isoformat(), "sales_volume": -4000, "profit": -4000, "cost_missing": True}


def test_the_settlement_of_the_day_of_the_refund_agrees_with_the_reports(client, pizzeria, monkeypatch):
    monkeypatch.setattr(sms, "configured", lambda: False)  # recorded, not sent

    response = client.get("/dashboard/calculate", query_string={"date": REFUNDED_ON.isoformat()},
                          headers=pizzeria.headers)

    assert response.status_code == 200
    figures = response.get_json()["figures"]
    assert (figures["sales_volume"], figures["payments"], figures["refunds"]) == (2000 - 57000, 1, 57000)
    assert figures["profit"] == 1500 - 37000 and figures["cost_missing"] is False
    [day] = volumes(client, pizzeria, REFUNDED_ON, REFUNDED_ON)
    assert (figures["sales_volume"], figures["profit"]) == (day["sales_volume"], day["profit"])
    assert "순이익 -35,500원" in response.get_json()["text"]
