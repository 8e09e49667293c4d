"""The figures' arithmetic on replies as the services give them (no HTTP): the class boundaries, the cost of
each day, refunds netted, and the hours."""
import datetime

from consulting_service.app.figures import StoreData, period_figures
from salesync_common.contracts.items import ConsultingMenu
from salesync_common.contracts.orders import ConsultingOrderSummary
from salesync_common.contracts.sales import ConsultingSaleSummary

START, END = datetime.date(2024, 5, 1), datetime.date(2024, 5, 7)


def totals(start, end, sales_volume=0, payments=0):
    return {"start_date": start, "end_date": end, "sales_volume": sales_volume, "payments": payments, "refunds": 0,
            "cash_total": 0, "card_total": sales_volume}


def store_data(lines, costs, hours=(), refund_lines=(), costs_from=START):
    """lines: (day, item_id, quantity, price); costs: {item_id: [(effective_date, cost)]}."""
    names = {item_id: f"메뉴{item_id}" for item_id in costs}
    return StoreData(
        sales=ConsultingSaleSummary(period=totals("2024-05-01", "2024-05-07"),
                                    previous=totals("2024-04-24", "2024-04-30"), refund_lines=list(refund_lines)),
        orders=ConsultingOrderSummary(
            lines=[{"date": day, "item_id": item_id, "name": names[item_id], "quantity": quantity,
                    "sales_volume": quantity * price} for day, item_id, quantity, price in lines],
            hours=list(hours)),
        menu=ConsultingMenu(items=[{"item_id": item_id, "name": names[item_id], "price": 10000, "on_menu": True,
                                    "costs": [{"effective_date": day, "cost": cost} for day, cost in entries]}
                                   for item_id, entries in costs.items()]),
        costs_from=costs_from)


def classes(figures):
    return {item["name"]: item["class"] for item in figures["items"]}


def test_an_item_at_the_average_margin_is_profitable_and_one_under_the_share_is_not_popular():
    # Unit margins 1,000, 3,000 and 2,000 won on 10, 10 and 5 sold: the average is exactly 2,000 won;
    # shares 40%, 40%, 20% against 0.7 / 3 = 23.3%.
    data = store_data([("2024-05-02", 1, 10, 5000), ("2024-05-02", 2, 10, 7000), ("2024-05-03", 3, 5, 6000)],
                      {1: [("2024-01-01", 4000)], 2: [("2024-01-01", 4000)], 3: [("2024-01-01", 4000)]})

    figures = period_figures(data, start=START, end=END)

    assert classes(figures) == {"메뉴1": "Plowhorse", "메뉴2": "Star", "메뉴3": "Puzzle"}
    assert figures["average_unit_margin"] == 2000 and figures["popular_share_pct"] == 23.3
    assert [item["contribution"] for item in figures["items"]] == [30000, 10000, 10000]


def test_each_line_counts_the_cost_of_its_day_and_a_day_before_any_cost_leaves_the_item_unclassified():
    data = store_data([("2024-05-01", 1, 2, 10000), ("2024-05-05", 1, 2, 10000),  # cost 6,000 then 4,000
                       ("2024-05-02", 2, 1, 10000), ("2024-05-06", 2, 1, 10000)],  # no cost until the 4th
                      {1: [("2024-04-01", 6000), ("2024-05-04", 4000)], 2: [("2024-05-04", 3000)]})

    figures = period_figures(data, start=START, end=END)

    first, second = figures["items"]
    assert (first["name"], first["unit_margin"], first["contribution"]) == ("메뉴1", 5000, 20000)
    assert (second["name"], second["class"], second["unit_margin"]) == ("메뉴2", None, None)


def test_a_refund_takes_its_quantity_back_at_the_cost_of_the_day_it_was_sold():
    refund = {"date": "2024-05-03", "sold_on": "2024-04-20", "item_id": 1, "name": "메뉴1", "quantity": 1,
              "sales_volume": 10000}
    data = store_data([("2024-05-02", 1, 3, 10000)], {1: [("2024-04-01", 2000), ("2024-05-01", 6000)]},
                      refund_lines=[refund], costs_from=datetime.date(2024, 4, 20))

    [item] = period_figures(data, start=START, end=END)["items"]

    # 30,000 − 3 × 6,000 for the sales, less 10,000 − 2,000 for the refund of a sale of 20 April.
    assert (item["quantity"], item["revenue"], item["contribution"]) == (2, 20000, 4000)


def test_the_empty_hours_lie_between_the_first_and_the_last_hour_with_orders():
    hours = [{"weekday": 3, "hour": hour, "orders": orders, "sales_volume": orders * 10000}
             for hour, orders in [(9, 10), (10, 1), (12, 20), (13, 3), (18, 8)]]
    data = store_data([("2024-05-01", 1, 1, 10000)], {1: [("2024-01-01", 1000)]}, hours=hours)

    figures = period_figures(data, start=START, end=END)

    assert figures["peak_hours"] == [9, 12, 18]
    assert figures["empty_hours"] == [10, 11, 14, 15, 16, 17]  # at most 2 orders: 10% of the busiest hour
    assert figures["weekdays"] == [{"weekday": "수", "orders": 42, "revenue": 420000}]
