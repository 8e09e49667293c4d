import datetime
import random
import urllib.parse

import pytest

from dashboard_service.app import create_app, sources
from dashboard_service.app.reports import CostHistory, Sold, profit_by_day, profit_by_item, profit_of
from dashboard_service.app.sources import MAX_IDS_CHARS, id_batches
from salesync_common.business_day import days_of
from salesync_common.contracts.orders import ItemDaySeries
from salesync_common.contracts.sales import RefundItemDayLine
from salesync_common.errors import UpstreamError
from salesync_common.service_client import ServiceClient, ServiceReply
from testsupport.clients import CheckedClient
from testsupport.settings import settings_for_tests

from .conftest import days_ago, period, today

# The computation alone, on data as the order, sale and item services send it.

START = datetime.date(2024, 1, 1)


def line(date, item_id, quantity, sales_volume, name=None):
    """One item-day of paid lines, as a test writes it."""
    return {"date": date, "item_id": item_id, "name": name or f"item {item_id}", "quantity": quantity,
            "sales_volume": sales_volume}


def refund(date, sold_on, item_id, quantity, sales_volume, name=None):
    """A line a refund took back, as the sale service reports it: positive, on the day of the refund."""
    return RefundItemDayLine(date=date, sold_on=sold_on, item_id=item_id, name=name or f"item {item_id}",
                             quantity=quantity, sales_volume=sales_volume)


def sold(*lines, start=START):
    """The lines as the dashboard receives them: paid item-days as the order service's columns per item
    (days counted from start, under the name of the item's last day), refunds as they are."""
    refunds = [entry for entry in lines if isinstance(entry, RefundItemDayLine)]
    by_item = {}
    for entry in sorted((entry for entry in lines if isinstance(entry, dict)), key=lambda e: e["date"]):
        by_item.setdefault(entry["item_id"], []).append(entry)
    paid = [ItemDaySeries(item_id=item_id, name=days[-1]["name"],
                          days=[(datetime.date.fromisoformat(day["date"]) - start).days for day in days],
                          quantities=[day["quantity"] for day in days],
                          sales_volumes=[day["sales_volume"] for day in days])
            for item_id, days in sorted(by_item.items())]
    return Sold(start, paid, refunds)


COSTS = CostHistory([
    {"item_id": 1, "name": "americano", "costs": [{"effective_date": "2024-01-01", "cost": 1000},
                                                  {"effective_date": "2024-01-10", "cost": 1500}]},
    {"item_id": 2, "name": "latte", "costs": [{"effective_date": "2024-01-05", "cost": 2000}]},
    {"item_id": 3, "name": "cake", "costs": []},
])


@pytest.mark.parametrize("item_id,day,cost", [
    (1, "2024-01-01", 1000), (1, "2024-01-09", 1000), (1, "2024-01-10", 1500), (1, "2024-03-01", 1500),
    (2, "2024-01-04", None), (2, "2024-01-05", 2000), (3, "2024-01-05", None), (99, "2024-01-05", None),
])
def test_the_cost_in_force_is_the_latest_entry_on_or_before_the_day(item_id, day, cost):
    assert COSTS.cost_on(item_id, day) == cost


def test_profit_by_item_uses_the_cost_of_each_day_of_sale_and_flags_missing_costs():
    lines = sold(line("2024-01-09", 1, 2, 9000), line("2024-01-10", 1, 1, 4500, name="americano (new)"),
                 line("2024-01-04", 2, 1, 5000), line("2024-01-05", 2, 2, 10000), line("2024-01-05", 3, 1, 6500))

    assert profit_by_item(lines, COSTS) == [
        {"item_id": 2, "name": "item 2", "quantity": 3, "sales_volume": 15000, "profit": 15000 - 2 * 2000,
         "cost_missing": True},
        {"item_id": 1, "name": "americano (new)", "quantity": 3, "sales_volume": 13500,
         "profit": 13500 - 2 * 1000 - 1500, "cost_missing": False},
        {"item_id": 3, "name": "item 3", "quantity": 1, "sales_volume": 6500, "profit": 6500, "cost_missing": True},
    ]


def test_items_with_equal_sales_are_ordered_by_item_id():
    lines = sold(line("2024-01-10", 3, 1, 5000), line("2024-01-10", 1, 2, 5000), line("2024-01-10", 2, 1, 7000))
    assert [item["item_id"] for item in profit_by_item(lines, COSTS)] == [2, 1, 3]


def test_profit_by_day_lists_every_day_of_the_period_with_zeros_for_quiet_days():
    lines = sold(line("2024-01-09", 1, 2, 9000), line("2024-01-09", 2, 1, 5000), line("2024-01-11", 1, 1, 4500),
                 start=datetime.date(2024, 1, 8))

    days = profit_by_day(lines, COSTS, datetime.date(2024, 1, 11))

    assert days == [
        {"date": "2024-01-08", "sales_volume": 0, "profit": 0, "cost_missing": False},
        {"date": "2024-01-09", "sales_volume": 14000, "profit": 14000 - 2000 - 2000, "cost_missing": False},
        {"date": "2024-01-10", "sales_volume": 0, "profit": 0, "cost_missing": False},
        {"date": "2024-01-11", "sales_volume": 4500, "profit": 3000, "cost_missing": False},
    ]


def test_profit_of_a_day_totals_its_lines():
    assert profit_of(sold(line("2024-01-05", 2, 1, 5000), line("2024-01-05", 3, 2, 13000)), COSTS) == (16000, True)
    assert profit_of(sold(), COSTS) == (0, False)


def test_a_refund_line_takes_back_the_cost_of_the_day_of_the_sale():
    sale, taken_back = line("2024-01-09", 1, 2, 9000), refund("2024-01-11", "2024-01-09", 1, 2, 9000)

    on_the_9th = profit_by_day(sold(sale, start=datetime.date(2024, 1, 9)), COSTS, datetime.date(2024, 1, 9))
    on_the_11th = profit_by_day(sold(taken_back, start=datetime.date(2024, 1, 11)), COSTS, datetime.date(2024, 1, 11))

    assert on_the_9th[0]["profit"] == 9000 - 2 * 1000
    assert on_the_11th[0] == {"date": "2024-01-11", "sales_volume": -9000, "profit": -(9000 - 2 * 1000),
                              "cost_missing": False}  # 1,000 on the 9th, not the 1,500 in force on the 11th
    assert profit_of(sold(sale, taken_back), COSTS) == (0, False)


def test_an_item_sold_and_refunded_within_the_period_is_not_listed():
    lines = sold(line("2024-01-09", 1, 2, 9000), line("2024-01-09", 2, 1, 5000),
                 refund("2024-01-11", "2024-01-09", 1, 2, 9000), refund("2024-01-11", "2024-01-03", 2, 1, 5000))

    assert profit_by_item(lines, COSTS) == [
        {"item_id": 2, "name": "item 2", "quantity": 0, "sales_volume": 0, "profit": -2000, "cost_missing": True},
    ]  # the latte sold on the 3rd had no cost; the one sold on the 9th had 2,000: quantity 0, profit not


def test_the_earliest_cost_day_reaches_back_to_the_sales_refunds_take_back():
    start = datetime.date(2024, 1, 10)
    assert sold(line("2024-01-11", 1, 1, 4500), refund("2024-01-11", "2024-01-03", 2, 1, 5000),
                start=start).earliest_cost_day() == datetime.date(2024, 1, 3)
    assert sold(line("2024-01-11", 1, 1, 4500), start=start).earliest_cost_day() == start


def per_line_reference(paid_lines, refunds, costs, start, end):
    """Profit by item and by day counted the plain way, a cost lookup per line (what the reports did when
    the order service sent an object per item-day): what the per-item walk must agree with."""
    lines = [(entry["date"], entry["date"], entry["item_id"], entry["quantity"], entry["sales_volume"])
             for entry in paid_lines]
    lines += [(entry.date, entry.sold_on, entry.item_id, -entry.quantity, -entry.sales_volume) for entry in refunds]
    items, days = {}, {day.isoformat(): [0, 0, False] for day in days_of(start, end)}
    for date, cost_day, item_id, quantity, sales_volume in lines:
        unit_cost = costs.cost_on(item_id, cost_day)
        item = items.setdefault(item_id, [0, 0, 0, False])
        item[:] = [item[0] + quantity, item[1] + sales_volume, item[2] + (unit_cost or 0) * quantity,
                   item[3] or unit_cost is None]
        day = days[date]
        day[:] = [day[0] + sales_volume, day[1] + sales_volume - (unit_cost or 0) * quantity,
                  day[2] or unit_cost is None]
    by_item = {item_id: (quantity, sales_volume, sales_volume - cost, missing)
               for item_id, (quantity, sales_volume, cost, missing) in items.items()
               if (quantity, sales_volume, cost) != (0, 0, 0)}
    total = (sum(sales_volume - cost for _, sales_volume, cost, _ in items.values()),
             any(missing for *_, missing in items.values()))
    return by_item, [(date, *figures) for date, figures in days.items()], total


def test_a_year_with_costs_changing_mid_period_and_refunds_of_earlier_sales_matches_a_lookup_per_line():
    rng = random.Random(14)
    start, end = datetime.date(2024, 3, 1), datetime.date(2025, 2, 28)
    paid_lines = [line((start + datetime.timedelta(days=day)).isoformat(), item_id, quantity, quantity * 4500)
                  for item_id in range(1, 11) for day in range(365) if rng.random() < 0.9
                  for quantity in [rng.randint(1, 30)]]
    refunds = [refund((start + datetime.timedelta(days=day)).isoformat(),
                      (start + datetime.timedelta(days=day - rng.randint(0, 90))).isoformat(),
                      rng.randint(1, 12), 1, 4500) for day in sorted(rng.sample(range(365), 60))]
    assert any(entry.sold_on < start.isoformat() for entry in refunds)  # sales made before the period
    # Costs changing within the period and before it; none at all for item 5, none before September for item 7.
    entries = {item_id: [{"effective_date": (start + datetime.timedelta(days=rng.randint(-100, 364))).isoformat(),
                          "cost": rng.randint(500, 3000)} for _ in range(rng.randint(1, 4))]
               for item_id in range(1, 13)}
    entries |= {5: [], 7: [{"effective_date": "2024-09-01", "cost": 999}]}
    costs = CostHistory([{"item_id": item_id, "costs": costs} for item_id, costs in entries.items()])

    by_item, by_day, total = per_line_reference(paid_lines, refunds, costs, start, end)
    report = sold(*paid_lines, *refunds, start=start)

    assert {item["item_id"]: (item["quantity"], item["sales_volume"], item["profit"], item["cost_missing"])
            for item in profit_by_item(report, costs)} == by_item
    assert [(day["date"], day["sales_volume"], day["profit"], day["cost_missing"])
            for day in profit_by_day(report, costs, end)] == by_day
    assert profit_of(report, costs) == total


class ServicesAnswering:
    """A service client whose services answer `body` to every call."""

    def __init__(self, body):
        self.body = body

    def get(self, service, path, **_):
        return ServiceReply(200, self.body, {}, service)


GOOD_SERIES = {"item_id": 1, "name": "americano", "days": [0, 2], "quantities": [1, 2], "sales_volumes": [4500, 9000]}


@pytest.mark.parametrize("body", [
    {"lines": []},  # the per-line shape of old
    {"start": "2024-01-01", "items": [{**GOOD_SERIES, "quantities": [1]}]},  # columns of different lengths
    {"start": "2024-01-01", "items": [{**GOOD_SERIES, "days": [2, 0]}]},  # days out of order
    {"start": "2024-01-01", "items": [{**GOOD_SERIES, "days": [-1, 0]}]},  # a day before the start
    {"start": "2024-01-01", "items": [{**GOOD_SERIES, "days": [0, 3]}]},  # a day past the end
    {"start": "2023-12-31", "items": [GOOD_SERIES]},  # another period
    {"start": "2024-01-01", "items": [{**GOOD_SERIES, "quantities": [1, "2"]}]},
])
def test_an_item_day_report_of_the_wrong_shape_is_a_502(body):
    with pytest.raises(UpstreamError) as failure:
        sources.paid_items(client=ServicesAnswering(body), start=START, end=datetime.date(2024, 1, 3))
    assert (failure.value.status, failure.value.error) == (502, "upstream_bad_reply")


def test_a_cost_history_with_a_date_that_is_not_a_date_is_a_502(app):
    costs = {"items": [{"item_id": 1, "name": "americano", "costs": [{"effective_date": "2024-1-5", "cost": 1000}]}]}
    with app.app_context(), pytest.raises(UpstreamError) as failure:
        sources.cost_history(client=ServicesAnswering(costs), start=START, end=START, item_ids=[1])
    assert (failure.value.status, failure.value.error, failure.value.extra) == (502, "upstream_bad_reply",
                                                                                {"service": "item"})


REFUND_LINE = {"date": "2024-01-02", "sold_on": "2023-12-30", "item_id": 1, "name": "americano", "quantity": 1,
               "sales_volume": 4500}


@pytest.mark.parametrize("field, day", [("date", "2024-1-2"), ("sold_on", "yesterday"), ("date", "2024-02-30")])
def test_a_refund_line_with_a_day_that_is_not_a_day_is_a_502(field, day):
    body = {"lines": [{**REFUND_LINE, field: day}]}
    with pytest.raises(UpstreamError) as failure:
        sources.refunds(client=ServicesAnswering(body), start=START, end=datetime.date(2024, 1, 3))
    assert (failure.value.status, failure.value.error) == (502, "upstream_bad_reply")


def test_an_item_day_report_of_the_right_shape_is_read_as_it_came():
    client = ServicesAnswering({"start": "2024-01-01", "items": [GOOD_SERIES]})
    [series] = sources.paid_items(client=client, start=START, end=datetime.date(2024, 1, 3))
    assert (series.item_id, series.days, series.quantities, series.sales_volumes) == (1, [0, 2], [1, 2], [4500, 9000])


# The reports over HTTP, from sales made through the real services.

@pytest.fixture
def pizzeria(shop):
    """Costs in force since 10 days ago (cola has none); sales three days ago, yesterday and today."""
    pizzeria = shop()
    pizzeria.set_costs(effective_date=days_ago(10), **{"페퍼로니 피자": 6000, "포테이토 피자": 8000})
    pizzeria.sell(days_ago(3), **{"페퍼로니 피자": 2, "콜라": 1})
    pizzeria.yesterdays_sale = pizzeria.sell(days_ago(1), payment_type="현금", **{"포테이토 피자": 1})
    return pizzeria


def test_sales_gives_revenue_and_each_items_sales_and_profit_to_the_won(client, pizzeria):
    body = client.get(f"/dashboard/sales?{period(days_ago(4), days_ago(1))}", headers=pizzeria.headers).get_json()

    assert body["result"] == "success" and body["message"] == "매출 조회 성공"
    assert body["start_date"] == days_ago(4).isoformat() and body["end_date"] == days_ago(1).isoformat()
    assert body["sales_volume"] == 2 * 18000 + 2000 + 21000
    assert body["items"] == [
        {"item_id": pizzeria.items["페퍼로니 피자"], "name": "페퍼로니 피자", "quantity": 2, "sales_volume": 36000,
         "profit": 36000 - 2 * 6000, "cost_missing": False},
        {"item_id": pizzeria.items["포테이토 피자"], "name": "포테이토 피자", "quantity": 1, "sales_volume": 21000,
         "profit": 21000 - 8000, "cost_missing": False},
        {"item_id": pizzeria.items["콜라"], "name": "콜라", "quantity": 1, "sales_volume": 2000, "profit": 2000,
         "cost_missing": True},
    ]


def test_volumes_lists_every_day_with_zeros_for_days_without_sales(client, pizzeria):
    body = client.get(f"/dashboard/volumes?{period(days_ago(4), today())}", headers=pizzeria.headers).get_json()

    assert body["result"] == "success" and body["message"] == "기간별 매출 조회 성공"
    assert body["start_date"] == days_ago(4).isoformat() and body["end_date"] == today().isoformat()
    assert body["total"] == [
        {"date": days_ago(4).isoformat(), "sales_volume": 0, "profit": 0, "cost_missing": False},
        {"date": days_ago(3).isoformat(), "sales_volume": 38000, "profit": 38000 - 12000, "cost_missing": True},
        {"date": days_ago(2).isoformat(), "sales_volume": 0, "profit": 0, "cost_missing": False},
        {"date": days_ago(1).isoformat(), "sales_volume": 21000, "profit": 13000, "cost_missing": False},
        {"date": today().isoformat(), "sales_volume": 0, "profit": 0, "cost_missing": False},
    ]


def test_a_cost_changed_today_leaves_earlier_profit_as_it_was(client, pizzeria):
    pizzeria.set_costs(**{"페퍼로니 피자": 10000})  # in force from today
    pizzeria.sell(**{"페퍼로니 피자": 1})  # today

    days = client.get(f"/dashboard/volumes?{period(days_ago(3), today())}", headers=pizzeria.headers).get_json()
    items = client.get(f"/dashboard/sales?{period(days_ago(3), today())}", headers=pizzeria.headers).get_json()

    assert days["total"][0]["profit"] == 38000 - 2 * 6000
    assert days["total"][-1] == {"date": today().isoformat(), "sales_volume": 18000, "profit": 8000,
                                 "cost_missing": False}
    [pepperoni] = [item for item in items["items"] if item["name"] == "페퍼로니 피자"]
    assert pepperoni["quantity"] == 3 and pepperoni["profit"] == (36000 - 2 * 6000) + (18000 - 10000)


def test_a_cost_with_an_effective_date_counts_from_that_day(client, shop):
    pizzeria = shop()
    pizzeria.sell(days_ago(2), **{"콜라": 1})

    pizzeria.set_costs(effective_date=days_ago(2), **{"콜라": 500})
    pizzeria.set_costs(effective_date=days_ago(1), **{"콜라": 900})

    days = client.get(f"/dashboard/volumes?{period(days_ago(2), days_ago(1))}", headers=pizzeria.headers)
    assert days.get_json()["total"][0]["profit"] == 2000 - 500


def test_a_price_changed_later_leaves_earlier_sales_as_they_were(client, pizzeria):
    pizzeria.call("PUT", "item", f"/categories/items/{pizzeria.items['포테이토 피자']}",
                  {"name": "포테이토 피자", "price": 25000})

    body = client.get(f"/dashboard/sales?{period(days_ago(1), days_ago(1))}", headers=pizzeria.headers).get_json()

    assert body["items"][0]["sales_volume"] == 21000 and body["sales_volume"] == 21000


def test_a_refund_lowers_revenue_and_takes_its_lines_out_on_the_day_it_is_made(client, pizzeria):
    pizzeria.refund(pizzeria.yesterdays_sale)  # refunded today

    whole = client.get(f"/dashboard/sales?{period(days_ago(4), today())}", headers=pizzeria.headers).get_json()
    refund_day = client.get(f"/dashboard/sales?{period(today(), today())}", headers=pizzeria.headers).get_json()
    sale_day = client.get(f"/dashboard/sales?{period(days_ago(1), days_ago(1))}",
                          headers=pizzeria.headers).get_json()

    assert whole["sales_volume"] == 38000
    assert [item["name"] for item in whole["items"]] == ["페퍼로니 피자", "콜라"]  # sold and refunded: not sold
    assert refund_day["sales_volume"] == -21000
    assert refund_day["items"] == [{"item_id": pizzeria.items["포테이토 피자"], "name": "포테이토 피자", "quantity": -1,
                                    "sales_volume": -21000, "profit": -(21000 - 8000), "cost_missing": False}]
    assert sale_day["sales_volume"] == 21000 and sale_day["items"][0]["quantity"] == 1


def test_a_store_without_sales_sees_zeros(client, shop):
    quiet = shop()
    sales = client.get(f"/dashboard/sales?{period(days_ago(2), today())}", headers=quiet.headers).get_json()
    days = client.get(f"/dashboard/volumes?{period(days_ago(2), today())}", headers=quiet.headers).get_json()
    assert sales["sales_volume"] == 0 and sales["items"] == []
    assert [day["sales_volume"] for day in days["total"]] == [0, 0, 0]


def test_the_csrf_header_is_accepted_and_never_required(client, pizzeria):
    query = period(days_ago(1), days_ago(1))
    with_it = client.get(f"/dashboard/sales?{query}", headers={**pizzeria.headers, "X-CSRF-Token": "anything"})
    without_it = client.get(f"/dashboard/sales?{query}", headers=pizzeria.headers)
    assert with_it.status_code == without_it.status_code == 200
    assert with_it.get_json() == without_it.get_json()


# At most four calls to other services, whatever the length of the period: the lines (and revenue) at once,
# then the cost history of the items they sell, from the earliest day they need.

@pytest.fixture
def outbound_calls(app, monkeypatch):
    """Every call the dashboard makes to another service, as (method, service, path)."""
    calls = []
    service_client: ServiceClient = app.extensions["salesync_client"]
    real_call = service_client.call

    def counted(method, service, path, **kwargs):
        calls.append((method, service, path))
        return real_call(method, service, path, **kwargs)

    monkeypatch.setattr(service_client, "call", counted)
    return calls


@pytest.fixture
def received_requests(store_service, item_service, order_service, sale_service):
    """Every request the served services receive (the dashboard's and their own calls to each other)."""
    received = []
    served = {"store": store_service, "item": item_service, "order": order_service, "sale": sale_service}
    originals = {name: app.server.app for name, app in served.items()}

    def counting(name, wsgi_app):
        def middleware(environ, start_response):
            received.append((name, environ["PATH_INFO"]))
            return wsgi_app(environ, start_response)
        return middleware

    for name, app in served.items():
        app.server.app = counting(name, originals[name])
    yield received
    for name, app in served.items():
        app.server.app = originals[name]


REFUND_LINES = ("GET", "sale", "/internal/reports/refund-item-days")


@pytest.mark.parametrize("route,expected", [
    ("sales", [("GET", "order", "/internal/reports/item-days"), REFUND_LINES, ("GET", "item", "/internal/items/costs"),
               ("GET", "sale", "/sales/period")]),
    ("volumes", [("GET", "order", "/internal/reports/item-days"), REFUND_LINES,
                 ("GET", "item", "/internal/items/costs")]),
])
def test_a_31_day_report_makes_at_most_four_calls(client, shop, outbound_calls, received_requests, route,
                                                  expected):
    busy = shop()
    busy.set_costs(effective_date=days_ago(40), **{"페퍼로니 피자": 6000})
    for n in range(0, 31, 3):
        busy.sell(days_ago(n), **{"페퍼로니 피자": 1, "콜라": n % 2 + 1})
    busy.set_costs(effective_date=days_ago(15), **{"페퍼로니 피자": 7000})
    del outbound_calls[:], received_requests[:]

    one_day = client.get(f"/dashboard/{route}?{period(today(), today())}", headers=busy.headers)
    received_for_one_day = len(received_requests)
    del outbound_calls[:], received_requests[:]

    month = client.get(f"/dashboard/{route}?{period(days_ago(30), today())}", headers=busy.headers)

    assert one_day.status_code == month.status_code == 200
    assert sorted(outbound_calls) == sorted(expected) and len(outbound_calls) <= 4  # made at once: any order
    assert len(received_requests) == received_for_one_day  # nobody downstream fans out per day either
    sold = 11 * 18000 + 2000 * sum(n % 2 + 1 for n in range(0, 31, 3))
    costs = 5 * 6000 + 6 * 7000  # sold 18..30 days ago at the old cost, 0..15 days ago at the new one
    if route == "volumes":
        days = month.get_json()["total"]
        assert len(days) == 31
        assert sum(day["sales_volume"] for day in days) == sold and sum(day["profit"] for day in days) == sold - costs
    else:
        assert sum(item["profit"] for item in month.get_json()["items"]) == sold - costs


def test_an_item_service_that_cannot_be_reached_is_a_503(database_url, urls, shop):
    pizzeria = shop()
    pizzeria.sell(**{"콜라": 1})  # a day with a sale needs its costs (a day without makes no cost call)
    headers = pizzeria.headers
    app = create_app(settings_for_tests("dashboard", database_url, http_get_retries=0,
                                        service_urls={**urls, "item": "http://127.0.0.1:9"}))
    app.test_client_class = CheckedClient

    response = app.test_client().get(f"/dashboard/volumes?{period(today(), today())}", headers=headers)

    assert response.status_code == 503
    assert response.get_json()["error"] == "upstream_unavailable" and response.get_json()["service"] == "item"


def test_a_refund_of_a_sale_made_before_the_period_asks_costs_from_the_sales_day(client, shop, outbound_calls):
    pizzeria = shop()
    pizzeria.set_costs(effective_date=days_ago(10), **{"페퍼로니 피자": 6000})
    sale = pizzeria.sell(days_ago(5), **{"페퍼로니 피자": 1})
    pizzeria.set_costs(effective_date=days_ago(3), **{"페퍼로니 피자": 9000})
    pizzeria.refund(sale)  # today
    del outbound_calls[:]

    body = client.get(f"/dashboard/sales?{period(today(), today())}", headers=pizzeria.headers).get_json()

    assert body["items"][0]["profit"] == -(18000 - 6000)  # the cost of the day of the sale, 5 days ago
    # The cost call comes after the lines, so it asks from the sale's day at once: no fifth call.
    assert sorted(outbound_calls) == sorted([("GET", "order", "/internal/reports/item-days"), REFUND_LINES,
                                             ("GET", "sale", "/sales/period"),
                                             ("GET", "item", "/internal/items/costs")])
    assert outbound_calls[-1] == ("GET", "item", "/internal/items/costs")


@pytest.fixture
def item_queries(item_service):
    """The query of every /internal/items/costs request the served item service receives, parsed."""
    received = []
    original = item_service.server.app

    def recording(environ, start_response):
        if environ["PATH_INFO"] == "/internal/items/costs":
            received.append(urllib.parse.parse_qs(environ["QUERY_STRING"]))
        return original(environ, start_response)

    item_service.server.app = recording
    yield received
    item_service.server.app = original


@pytest.mark.parametrize("route", ["sales", "volumes"])
def test_the_cost_call_asks_only_for_the_items_sold_not_the_stores_deleted_ones(client, shop, item_queries,
                                                                                outbound_calls, route):
    pizzeria = shop()
    gone = pizzeria.build_menu({"지난 메뉴": {f"한정 {n}": 1000 for n in range(50)}})
    pizzeria.set_costs(effective_date=days_ago(10), **{"페퍼로니 피자": 6000, "콜라": 500},
                       **{name: 100 for name in gone})
    for item_id in gone.values():
        assert pizzeria.request("DELETE", f"/categories/items/{item_id}").status_code == 200
    pizzeria.sell(days_ago(1), **{"페퍼로니 피자": 2, "콜라": 1})
    del outbound_calls[:], item_queries[:]

    report = client.get(f"/dashboard/{route}?{period(days_ago(2), today())}", headers=pizzeria.headers)

    assert report.status_code == 200
    sold = sorted([pizzeria.items["페퍼로니 피자"], pizzeria.items["콜라"]])
    assert item_queries == [{"start": [days_ago(2).isoformat()], "end": [today().isoformat()],
                             "ids": [",".join(map(str, sold))]}]
    assert len(outbound_calls) == (4 if route == "sales" else 3)
    profit = 2 * 18000 + 2000 - 2 * 6000 - 500
    if route == "sales":
        assert sum(item["profit"] for item in report.get_json()["items"]) == profit
    else:
        assert sum(day["profit"] for day in report.get_json()["total"]) == profit


def test_a_report_with_nothing_sold_makes_no_cost_call(client, shop, item_queries, outbound_calls):
    pizzeria = shop()
    pizzeria.set_costs(**{"페퍼로니 피자": 6000})

    sales = client.get(f"/dashboard/sales?{period(days_ago(2), today())}", headers=pizzeria.headers)
    volumes = client.get(f"/dashboard/volumes?{period(days_ago(2), today())}", headers=pizzeria.headers)

    assert sales.status_code == volumes.status_code == 200
    assert sales.get_json()["items"] == [] and {day["profit"] for day in volumes.get_json()["total"]} == {0}
    assert item_queries == [] and ("GET", "item", "/internal/items/costs") not in outbound_calls


def test_ids_go_in_batches_that_fit_the_item_limit_and_a_request_line():
    assert id_batches([1, 2, 3, 4, 5], max_ids=2, max_chars=100) == ["1,2", "3,4", "5"]
    assert id_batches([1000, 2000, 3000], max_ids=10, max_chars=9) == ["1000,2000", "3000"]
    assert id_batches([], max_ids=2, max_chars=100) == []
    many = list(range(1_000_000, 1_002_000))  # a store's 2,000 items with 7-digit ids
    batches = id_batches(many, max_ids=2000, max_chars=MAX_IDS_CHARS)
    assert [int(part) for batch in batches for part in batch.split(",")] == many
    assert all(len(batch) <= MAX_IDS_CHARS for batch in batches) and len(batches) == 6
