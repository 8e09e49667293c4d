"""What the order service answers other services."""
from __future__ import annotations

import operator
from itertools import islice

from pydantic import BaseModel, StrictInt, StrictStr, model_validator


class OrderPayment(BaseModel):
    """GET /internal/orders/open/<table_no>, GET /internal/orders/<id>, POST /internal/orders/<id>/pay:
    an order as paying it needs."""
    order_id: StrictInt
    table_no: StrictInt
    status: StrictStr
    total_price: StrictInt
    sale_id: StrictInt | None
    paid_at: StrictStr | None


class ItemDayLine(BaseModel):
    date: StrictStr  # the business day, YYYY-MM-DD
    item_id: StrictInt
    name: StrictStr  # the name it was last ordered under that day
    quantity: StrictInt
    sales_volume: StrictInt


class ItemDaySeries(BaseModel):
    """One item's paid order lines over a period, one entry per business day it sold, days ascending: three
    lists of the same length rather than an object per day (a year of a 40-item menu is 14,600 item-days)."""
    item_id: StrictInt
    name: StrictStr  # the name it was last ordered under in the period
    days: list[StrictInt]  # business days, as days after the period's start (0: start), strictly ascending
    quantities: list[StrictInt]
    sales_volumes: list[StrictInt]

    @model_validator(mode="after")
    def _one_entry_per_day(self) -> ItemDaySeries:
        days = self.days
        if not len(days) == len(self.quantities) == len(self.sales_volumes):
            raise ValueError("days, quantities and sales_volumes differ in length")
        # map/all run in C: a year of 40 items is 14,600 comparisons per reply.
        if days and (days[0] < 0 or not all(map(operator.lt, days, islice(days, 1, None)))):
            raise ValueError("days are not ascending offsets from the start")
        return self


class ItemDayReport(BaseModel):
    """GET /internal/reports/item-days?start&end: paid order lines per item and business day, item_id
    ascending."""
    start: StrictStr  # YYYY-MM-DD, day 0 of each item's days
    items: list[ItemDaySeries]


class OrderLineSold(BaseModel):
    item_id: StrictInt
    name: StrictStr  # as ordered
    quantity: StrictInt
    unit_price: StrictInt  # as ordered


class PaidOrderLines(BaseModel):
    """GET /internal/orders/<id>/lines: an order with its lines as ordered, for a refund to record what it
    takes back (paid_at: the instant its lines count in the item-day report)."""
    order_id: StrictInt
    status: StrictStr
    sale_id: StrictInt | None
    paid_at: StrictStr | None
    lines: list[OrderLineSold]


class HourTraffic(BaseModel):
    weekday: StrictInt  # ISO: 1 Monday .. 7 Sunday, in the store's time zone
    hour: StrictInt  # 0..23, in the store's time zone
    orders: StrictInt
    sales_volume: StrictInt


class ConsultingOrderSummary(BaseModel):
    """GET /internal/consulting/orders?start&end (the consulting worker only): the period's paid lines per
    business day and item, and its paid orders by weekday and hour of payment."""
    lines: list[ItemDayLine]
    hours: list[HourTraffic]
