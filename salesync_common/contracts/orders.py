"""What the order service answers other services."""
from __future__ import annotations

from pydantic import BaseModel, StrictInt, StrictStr


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


class ItemDayReport(BaseModel):
    """GET /internal/reports/item-days?start&end: paid order lines per business day and item."""
    lines: list[ItemDayLine]


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
