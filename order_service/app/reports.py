"""Order totals for reports: paid orders only, by the store's business day (the day of payment).

A report reads the item-day aggregate (item_days.py), one row per business day and item sold that day,
never the order lines: its cost grows with the days of the period, not with the orders of those days.
"""
from __future__ import annotations

import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ItemDay


def item_day_totals(*, session: Session, store_id: int, start: datetime.date, end: datetime.date) -> list[dict]:
    """Per business day and item: what profit by the cost in force on the day of sale needs."""
    rows = session.execute(
        select(ItemDay.business_day, ItemDay.item_id, ItemDay.item_name, ItemDay.quantity, ItemDay.sales_volume)
        .where(ItemDay.store_id == store_id, ItemDay.business_day >= start, ItemDay.business_day <= end)
        .order_by(ItemDay.business_day, ItemDay.item_id)
    ).all()
    return [{"date": day.isoformat(), "item_id": item_id, "name": name, "quantity": quantity,
             "sales_volume": sales} for day, item_id, name, quantity, sales in rows]
