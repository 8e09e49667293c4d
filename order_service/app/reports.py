"""Order totals for reports: paid orders only, by the store's business day (the day of payment).

Each report is one SQL aggregation, whatever the length of the period.
"""
from __future__ import annotations

import datetime
import zoneinfo

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from salesync_common.business_day import days_of, period_bounds

from .models import PAID, Order, OrderLine

_line_total = func.sum(cast(OrderLine.quantity, BigInteger) * OrderLine.unit_price)
_latest_name = func.array_agg(aggregate_order_by(OrderLine.item_name, OrderLine.line_id.desc()))[1]


def _paid_in(store_id: int, start: datetime.date, end: datetime.date, zone: zoneinfo.ZoneInfo):
    since, until = period_bounds(start, end, zone)
    return (Order.store_id == store_id, Order.status == PAID, Order.paid_at >= since, Order.paid_at < until)


def _business_day(zone: zoneinfo.ZoneInfo):
    return func.date(func.timezone(zone.key, Order.paid_at))


def item_totals(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                zone: zoneinfo.ZoneInfo) -> list[dict]:
    rows = session.execute(
        select(OrderLine.item_id, _latest_name, func.sum(OrderLine.quantity), _line_total)
        .join(Order, Order.order_id == OrderLine.order_id)
        .where(*_paid_in(store_id, start, end, zone))
        .group_by(OrderLine.item_id)
        .order_by(OrderLine.item_id)
    ).all()
    return [{"item_id": item_id, "name": name, "quantity": int(quantity), "sales_volume": int(sales)}
            for item_id, name, quantity, sales in rows]


def day_totals(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
               zone: zoneinfo.ZoneInfo) -> list[dict]:
    day = _business_day(zone)
    rows = session.execute(
        select(day, func.count(func.distinct(Order.order_id)), func.sum(OrderLine.quantity), _line_total)
        .join(OrderLine, OrderLine.order_id == Order.order_id)
        .where(*_paid_in(store_id, start, end, zone))
        .group_by(day)
    ).all()
    found = {row[0]: row[1:] for row in rows}
    return [
        {"date": d.isoformat(), "orders": int(found[d][0]) if d in found else 0,
         "quantity": int(found[d][1]) if d in found else 0,
         "sales_volume": int(found[d][2]) if d in found else 0}
        for d in days_of(start, end)
    ]


def item_day_totals(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                    zone: zoneinfo.ZoneInfo) -> list[dict]:
    """Per business day and item: what profit by the cost in force on the day of sale needs."""
    day = _business_day(zone)
    rows = session.execute(
        select(day, OrderLine.item_id, _latest_name, func.sum(OrderLine.quantity), _line_total)
        .join(Order, Order.order_id == OrderLine.order_id)
        .where(*_paid_in(store_id, start, end, zone))
        .group_by(day, OrderLine.item_id)
        .order_by(day, OrderLine.item_id)
    ).all()
    return [{"date": d.isoformat(), "item_id": item_id, "name": name, "quantity": int(quantity),
             "sales_volume": int(sales)} for d, item_id, name, quantity, sales in rows]
