"""What a consulting job reads from the orders of a period: the paid lines per business day and item (for
each item's quantity, revenue and margin by the cost of its day), and the paid orders by weekday and hour
of payment in the store's time zone (for the busy and the empty hours).

Two SQL aggregations over the period's paid orders, whatever its length.
"""
from __future__ import annotations

import datetime
import zoneinfo

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from salesync_common.business_day import period_bounds

from .models import PAID, Order, OrderLine

# Kept apart from reports.py on purpose: the dashboard's item-day report has its own cache and tables.


def order_summary(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                  zone: zoneinfo.ZoneInfo) -> dict:
    return {"lines": lines_by_day(session=session, store_id=store_id, start=start, end=end, zone=zone),
            "hours": orders_by_hour(session=session, store_id=store_id, start=start, end=end, zone=zone)}


def _paid_between(store_id: int, start: datetime.date, end: datetime.date, zone: zoneinfo.ZoneInfo):
    since, until = period_bounds(start, end, zone)
    return (Order.store_id == store_id, Order.status == PAID, Order.paid_at >= since, Order.paid_at < until)


def lines_by_day(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                 zone: zoneinfo.ZoneInfo) -> list[dict]:
    """Per business day of payment and item: quantity and sales, under the name last ordered that day."""
    day = func.date(func.timezone(zone.key, Order.paid_at))
    name = func.array_agg(aggregate_order_by(OrderLine.item_name, OrderLine.line_id.desc()))[1]
    rows = session.execute(
        select(day, OrderLine.item_id, name, func.sum(OrderLine.quantity),
               func.sum(cast(OrderLine.quantity, BigInteger) * OrderLine.unit_price))
        .join(Order, Order.order_id == OrderLine.order_id)
        .where(*_paid_between(store_id, start, end, zone))
        .group_by(day, OrderLine.item_id)
        .order_by(day, OrderLine.item_id)
    ).all()
    return [{"date": paid_on.isoformat(), "item_id": item_id, "name": item_name, "quantity": int(quantity),
             "sales_volume": int(sales)} for paid_on, item_id, item_name, quantity, sales in rows]


def orders_by_hour(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                   zone: zoneinfo.ZoneInfo) -> list[dict]:
    """Paid orders and their totals per (ISO weekday, hour) of payment; hours without an order left out."""
    local = func.timezone(zone.key, Order.paid_at)
    weekday = cast(func.extract("isodow", local), BigInteger)
    hour = cast(func.extract("hour", local), BigInteger)
    rows = session.execute(
        select(weekday, hour, func.count(), func.sum(Order.total_price))
        .where(*_paid_between(store_id, start, end, zone))
        .group_by(weekday, hour)
        .order_by(weekday, hour)
    ).all()
    return [{"weekday": int(day), "hour": int(at), "orders": int(orders), "sales_volume": int(total)}
            for day, at, orders, total in rows]
