"""Revenue and profit from paid order lines and the item cost history: plain computation, no I/O.

A line is one item sold on one business day at the prices of the time it was ordered. Its
profit is its sales volume minus the item cost in force on that day times the quantity; an
item with no cost in force that day counts 0 and is flagged, so a missing cost is visible
instead of silently inflating the profit.

A refund is a negative line on the business day it was made (the day its revenue falls), with
`sold_on`, the day of the sale. It takes back the sale's cost as well as its price, at the cost in
force on the day of the sale: for the owner a refunded sale leaves the books as if it had not been
made, so that day's profit falls by the sale's margin, and any period holding both the sale and
its refund shows neither its quantity, its sales nor its profit. (Whether the goods came back or
were thrown away is not something the POS records; counting the cost as lost would make an
item's profit disagree with its quantity.)
"""
from __future__ import annotations

import bisect
import dataclasses
import datetime

from salesync_common.business_day import days_of


class CostHistory:
    """Each item's cost entries (effective_date ascending), as the item service reports them."""

    def __init__(self, items: list[dict]):
        self._days: dict[int, list[str]] = {}
        self._costs: dict[int, list[int]] = {}
        for item in items:
            entries = sorted(item.get("costs") or [], key=lambda entry: entry["effective_date"])
            self._days[item["item_id"]] = [entry["effective_date"] for entry in entries]
            self._costs[item["item_id"]] = [int(entry["cost"]) for entry in entries]

    def cost_on(self, item_id: int, day: str) -> int | None:
        """The cost in force on day (YYYY-MM-DD): the entry with the latest effective_date <= day."""
        days = self._days.get(item_id)
        if not days:
            return None
        position = bisect.bisect_right(days, day)
        return self._costs[item_id][position - 1] if position else None


def _cost_day(line: dict) -> str:
    """The day whose cost a line counts: its own, or for a refund the day of the sale it takes back."""
    return line.get("sold_on") or line["date"]


def earliest_cost_day(lines: list[dict], start: datetime.date) -> datetime.date:
    """The first day whose cost the lines need: start, or the day of an earlier sale a refund takes back."""
    return min([start, *(datetime.date.fromisoformat(_cost_day(line)) for line in lines)])


@dataclasses.dataclass
class _Totals:
    quantity: int = 0
    sales_volume: int = 0
    cost: int = 0
    cost_missing: bool = False

    def add(self, line: dict, unit_cost: int | None) -> None:
        self.quantity += line["quantity"]
        self.sales_volume += line["sales_volume"]
        if unit_cost is None:
            self.cost_missing = True
        else:
            self.cost += unit_cost * line["quantity"]

    @property
    def profit(self) -> int:
        return self.sales_volume - self.cost


def profit_by_item(lines: list[dict], costs: CostHistory) -> list[dict]:
    """Per item over all the lines (refunds as negative ones): quantity, sales volume and profit, best sellers
    first."""
    totals: dict[int, _Totals] = {}
    names: dict[int, tuple[str, str]] = {}
    for line in lines:
        item_id = line["item_id"]
        totals.setdefault(item_id, _Totals()).add(line, costs.cost_on(item_id, _cost_day(line)))
        # The name it was last sold under.
        if item_id not in names or _cost_day(line) >= names[item_id][0]:
            names[item_id] = (_cost_day(line), line["name"])
    # An item whose sales in the period were all refunded in it was, for the owner, not sold.
    items = [{"item_id": item_id, "name": names[item_id][1], "quantity": total.quantity,
              "sales_volume": total.sales_volume, "profit": total.profit, "cost_missing": total.cost_missing}
             for item_id, total in totals.items() if (total.quantity, total.sales_volume, total.cost) != (0, 0, 0)]
    return sorted(items, key=lambda item: (-item["sales_volume"], item["item_id"]))


def profit_by_day(lines: list[dict], costs: CostHistory, start: datetime.date, end: datetime.date) -> list[dict]:
    """Every business day of start..end (quiet days as zeros): sales volume, profit, any cost missing."""
    totals = {day.isoformat(): _Totals() for day in days_of(start, end)}
    for line in lines:
        if line["date"] in totals:
            totals[line["date"]].add(line, costs.cost_on(line["item_id"], _cost_day(line)))
    return [{"date": day, "sales_volume": total.sales_volume, "profit": total.profit,
             "cost_missing": total.cost_missing} for day, total in totals.items()]


def profit_of(lines: list[dict], costs: CostHistory) -> tuple[int, bool]:
    """Total profit of the lines, and whether any of them had no cost in force."""
    total = _Totals()
    for line in lines:
        total.add(line, costs.cost_on(line["item_id"], _cost_day(line)))
    return total.profit, total.cost_missing
