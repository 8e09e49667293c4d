import datetime
import urllib.parse

import pytest

from dashboard_service.app import create_app
from dashboard_service.app.reports import CostHistory, earliest_cost_day, profit_by_day, profit_by_item, profit_of
from dashboard_service.app.sources import MAX_IDS_CHARS, id_batches
from salesync_common.service_client import ServiceClient
from testsupport.clients import CheckedClient
from testsupport.settings import settings_for_tests

from .conftest import days_ago, period, today

# The computation alone, on data as the order and item services send it.

def line(date, item_id, quantity, sales_volume, name=None):
    return {"date": date, "item_id": item_id, "name": name or f"item {item_id}", "quantity": quantity,
            "sales_volume": sales_volume}


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
    lines = [line("2024-01-09", 1, 2, 9000), line("2024-01-10", 1, 1, 4500, name="americano (new)"),
             line("2024-01-04", 2, 1, 5000), line("2024-01-05", 2, 2, 10000), line("2024-01-05", 3, 1, 6500)]

    assert profit_by_item(lines, COSTS) == [
        {"item_id": 2, "name": "item 2", "quantity": 3, "sales_volume": 15000, "profit": 15000 - 2 * 2000,
         "cost_missing": True},
        {"item_id": 1, "name": "americano (new)", "quantity": 3, "sales_volume": 13500,
         "profit": 13500 - 2 * 1000 - 1500, "cost_missing": False},
        {"item_id": 3, "name": "item 3", "quantity": 1, "sales_volume": 6500, "profit": 6500, "cost_missing": True},
    ]


def test_items_with_equal_sales_are_ordered_by_item_id():
    lines = [line("2024-01-10", 3, 1, 5000), line("2024-01-10", 1, 2, 5000), line("2024-01-10", 2, 1, 7000)]
    assert [item["item_id"] for item in profit_by_item(lines, COSTS)] == [2, 1, 3]


def test_profit_by_day_lists_every_day_of_the_period_with_zeros_for_quiet_days():
    lines = [line("2024-01-09", 1, 2, 9000), line("2024-01-09", 2, 1, 5000), line("2024-01-11", 1, 1, 4500)]

    days = profit_by_day(lines, COSTS, datetime.date(2024, 1, 8), datetime.date(2024, 1, 11))

    assert days == [
        {"date": "2024-01-08", "sales_volume": 0, "profit": 0, "cost_missing": False},
        {"date": "2024-01-09", "sales_volume": 14000, "profit": 14000 - 2000 - 2000, "cost_missing": False},
        {"date": "2024-01-10", "sales_volume": 0, "profit": 0, "cost_missing": False},
        {"date": "2024-01-11", "sales_volume": 4500, "profit": 3000, "cost_missing": False},
    ]


def test_profit_of_a_day_totals_its_lines():
    assert profit_of([line("2024-01-05", 2, 1, 5000), line("2024-01-05", 3, 2, 13000)], COSTS) == (16000, True)
    assert profit_of([], COSTS) == (0, False)


def refund(date, sold_on, item_id, quantity, sales_volume, name=None):
    """A line a refund took back, as sources.refunded_lines gives it: negative, on the day of the refund."""
    return {**line(date, item_id, -quantity, -sales_volume, name), "sold_on": sold_on}


def test_a_refund_line_takes_back_the_cost_of_the_day_of_the_sale():
    lines = [line("2024-01-09", 1, 2, 9000), refund("2024-01-11", "2024-01-09", 1, 2, 9000)]

    sold, refunded = (profit_by_day(lines, COSTS, datetime.date(2024, 1, day), datetime.date(2024, 1, day))
                      for day in (9, 11))

    assert sold[0]["profit"] == 9000 - 2 * 1000
    assert refunded[0] == {"date": "2024-01-11", "sales_volume": -9000, "profit": -(9000 - 2 * 1000),
                           "cost_missing": False}  # 1,000 on the 9th, not the 1,500 in force on the 11th
    assert profit_of(lines, COSTS) == (0, False)


def test_an_item_sold_and_refunded_within_the_period_is_not_listed():
    lines = [line("2024-01-09", 1, 2, 9000), line("2024-01-09", 2, 1, 5000),
             refund("2024-01-11", "2024-01-09", 1, 2, 9000), refund("2024-01-11", "2024-01-03", 2, 1, 5000)]

    assert profit_by_item(lines, COSTS) == [
        {"item_id": 2, "name": "item 2", "quantity": 0, "sales_volume": 0, "profit": -2000, "cost_missing": True},
    ]  # the latte sold on the 3rd had no cost; the one sold on the 9th had 2,000: quantity 0, profit not


def test_the_earliest_cost_day_reaches_back_to_the_sales_refunds_take_back():
    lines = [line("2024-01-11", 1, 1, 4500), refund("2024-01-11", "2024-01-03", 2, 1, 5000)]
    assert earliest_cost_day(lines, datetime.date(2024, 1, 10)) == datetime.date(2024, 1, 3)
    assert earliest_cost_day(lines[:1], datetime.date(2024, 1, 10)) == datetime.date(2024, 1, 10)


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
