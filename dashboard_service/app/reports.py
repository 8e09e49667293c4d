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

A period's paid lines come per item as columns ordered by day (contracts.orders.ItemDaySeries), a year
being 14,600 item-days: each item is walked once, one stretch of days per cost entry in force (a bisect per
entry, not per day), with no object per item-day.
"""
from __future__ import annotations

import bisect
import dataclasses
import datetime

from salesync_common.business_day import days_of
from salesync_common.contracts.orders import ItemDaySeries
from salesync_common.contracts.sales import RefundItemDayLine


class CostHistory:
    """Each item's cost entries (effective_date ascending), as the item service reports them."""

    def __init__(self, items: list[dict]):
        """A ValueError when an effective_date is not a YYYY-MM-DD date."""
        self._days: dict[int, list[str]] = {}
        self._dates: dict[int, list[datetime.date]] = {}
        self._costs: dict[int, list[int]] = {}
        for item in items:
            entries = sorted(item.get("costs") or [], key=lambda entry: entry["effective_date"])
            self._days[item["item_id"]] = [entry["effective_date"] for entry in entries]
            self._dates[item["item_id"]] = [datetime.date.fromisoformat(day) for day in self._days[item["item_id"]]]
            self._costs[item["item_id"]] = [int(entry["cost"]) for entry in entries]

    def cost_on(self, item_id: int, day: str) -> int | None:
        """The cost in force on day (YYYY-MM-DD): the entry with the latest effective_date <= day."""
        days = self._days.get(item_id)
        if not days:
            return None
        position = bisect.bisect_right(days, day)
        return self._costs[item_id][position - 1] if position else None

    def stretches(self, series: ItemDaySeries, start: datetime.date) -> list[tuple[int, int, int | None]]:
        """The series' days (counted from start) cut by the cost in force: (first, past the last, unit cost)
        positions in its lists, in order, covering them all; None before the item's first cost entry."""
        days = series.days
        cuts = [bisect.bisect_left(days, (effective - start).days) for effective in self._dates.get(series.item_id, ())]
        bounds = [0, *cuts, len(days)]
        unit_costs = [None, *self._costs.get(series.item_id, ())]
        return [(bounds[n], bounds[n + 1], unit_cost) for n, unit_cost in enumerate(unit_costs)
                if bounds[n + 1] > bounds[n]]


@dataclasses.dataclass(frozen=True)
class Sold:
    """What a period sold: each item's paid lines, days counted from start, and the lines its refunds took
    back (positive, as the sale service reports them), each on the business day of the refund with
    `sold_on`, the day of the sale whose cost it takes back."""
    start: datetime.date
    paid: list[ItemDaySeries]
    refunds: list[RefundItemDayLine]

    def item_ids(self) -> list[int]:
        return sorted({series.item_id for series in self.paid if series.days}
                      | {line.item_id for line in self.refunds})

    def earliest_cost_day(self) -> datetime.date:
        """The first day whose cost the lines need: start, or the day of an earlier sale a refund takes back."""
        return min([self.start, *(datetime.date.fromisoformat(line.sold_on) for line in self.refunds)])


@dataclasses.dataclass
class _Totals:
    quantity: int = 0
    sales_volume: int = 0
    cost: int = 0
    cost_missing: bool = False

    def add(self, quantity: int, sales_volume: int, unit_cost: int | None) -> None:
        self.quantity += quantity
        self.sales_volume += sales_volume
        if unit_cost is None:
            self.cost_missing = True
        else:
            self.cost += unit_cost * quantity

    @property
    def profit(self) -> int:
        return self.sales_volume - self.cost


def _item_totals(sold: Sold, costs: CostHistory) -> tuple[dict[int, _Totals], dict[int, str]]:
    """Per item: its totals over the paid and refunded lines, and the name it was last sold under (a refund
    counting on the day of the sale it takes back, and winning a tie)."""
    totals: dict[int, _Totals] = {}
    named: dict[int, tuple[str, str]] = {}
    for series in sold.paid:
        if not series.days:
            continue
        total = totals.setdefault(series.item_id, _Totals())
        for first, past, unit_cost in costs.stretches(series, sold.start):
            total.add(sum(series.quantities[first:past]), sum(series.sales_volumes[first:past]), unit_cost)
        last_day = (sold.start + datetime.timedelta(days=series.days[-1])).isoformat()
        if series.item_id not in named or last_day > named[series.item_id][0]:
            named[series.item_id] = (last_day, series.name)
    for line in sold.refunds:
        totals.setdefault(line.item_id, _Totals()).add(-line.quantity, -line.sales_volume,
                                                       costs.cost_on(line.item_id, line.sold_on))
        if line.item_id not in named or line.sold_on >= named[line.item_id][0]:
            named[line.item_id] = (line.sold_on, line.name)
    return totals, {item_id: name for item_id, (_, name) in named.items()}


def profit_by_item(sold: Sold, costs: CostHistory) -> list[dict]:
    """Per item over the period (refunds taken off): quantity, sales volume and profit, best sellers first."""
    totals, names = _item_totals(sold, costs)
    # An item whose sales in the period were all refunded in it was, for the owner, not sold.
    items = [{"item_id": item_id, "name": names[item_id], "quantity": total.quantity,
              "sales_volume": total.sales_volume, "profit": total.profit, "cost_missing": total.cost_missing}
             for item_id, total in totals.items() if (total.quantity, total.sales_volume, total.cost) != (0, 0, 0)]
    return sorted(items, key=lambda item: (-item["sales_volume"], item["item_id"]))


class _DayTotals:
    """Sales, profit and any cost missing per day of a period, by day number (0: its first day)."""

    def __init__(self, count: int):
        self.sales = [0] * count
        self.profit = [0] * count
        self.missing = [False] * count

    def add_paid(self, series: ItemDaySeries, first: int, past: int, unit_cost: int | None) -> None:
        sales, profit, cost = self.sales, self.profit, unit_cost or 0
        stretch = zip(series.days[first:past], series.quantities[first:past], series.sales_volumes[first:past],
                      strict=True)
        for day, quantity, sales_volume in stretch:
            sales[day] += sales_volume
            profit[day] += sales_volume - cost * quantity
        if unit_cost is None:
            for day in series.days[first:past]:
                self.missing[day] = True

    def take_back(self, day: int, line: RefundItemDayLine, unit_cost: int | None) -> None:
        self.sales[day] -= line.sales_volume
        self.profit[day] -= line.sales_volume - (unit_cost or 0) * line.quantity
        self.missing[day] = self.missing[day] or unit_cost is None


def profit_by_day(sold: Sold, costs: CostHistory, end: datetime.date) -> list[dict]:
    """Every business day of sold.start..end (quiet days as zeros): sales volume, profit, any cost missing.
    The paid days must lie in the period (sources.paid_items checks the order service's reply)."""
    dates = days_of(sold.start, end)
    totals = _DayTotals(len(dates))
    for series in sold.paid:
        for first, past, unit_cost in costs.stretches(series, sold.start):
            totals.add_paid(series, first, past, unit_cost)
    for line in sold.refunds:
        day = (datetime.date.fromisoformat(line.date) - sold.start).days
        if 0 <= day < len(dates):
            totals.take_back(day, line, costs.cost_on(line.item_id, line.sold_on))
    return [{"date": date.isoformat(), "sales_volume": sales_volume, "profit": profit, "cost_missing": missing}
            for date, sales_volume, profit, missing in zip(dates, totals.sales, totals.profit, totals.missing,
                                                           strict=True)]


def profit_of(sold: Sold, costs: CostHistory) -> tuple[int, bool]:
    """Total profit of what the period sold, and whether any of its lines had no cost in force."""
    totals, _ = _item_totals(sold, costs)
    return (sum(total.profit for total in totals.values()),
            any(total.cost_missing for total in totals.values()))
