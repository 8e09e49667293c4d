"""Order totals for reports: paid orders only, by the store's business day (the day of payment).

Each report is one SQL aggregation, whatever the length of the period.
"""
from __future__ import annotations

import collections
import datetime
import threading
import time
import zoneinfo

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from salesync_common.business_day import days_of, period_bounds, today_in

from .models import PAID, Order, OrderLine

_line_total = func.sum(cast(OrderLine.quantity, BigInteger) * OrderLine.unit_price)
_latest_name = func.array_agg(aggregate_order_by(OrderLine.item_name, OrderLine.line_id.desc()))[1]


def _paid_in(store_id: int, start: datetime.date, end: datetime.date, zone: zoneinfo.ZoneInfo):
    since, until = period_bounds(start, end, zone)
    return (Order.store_id == store_id, Order.status == PAID, Order.paid_at >= since, Order.paid_at < until)


def _business_day(zone: zoneinfo.ZoneInfo):
    return func.date(func.timezone(zone.key, Order.paid_at))


class PastDays:
    """Item-day rows of business days before today, kept in this process for a while.

    A past business day never gains or loses a paid order (a payment's day is the day it was
    made, and a paid order's lines never change), so an owner who opens the same month again
    gets it from memory instead of one more aggregation over every line of it, which is the
    dashboard's most expensive query. Entries are keyed by the time zone as well (a store that
    changes it gets fresh days) and expire anyway, as a last guard against a payment that
    committed across midnight.
    """

    def __init__(self, *, seconds: float = 600.0, max_days: int = 50_000):
        self.seconds, self.max_days = seconds, max_days
        self._days: collections.OrderedDict[tuple, tuple[float, list[dict]]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> list[dict] | None:
        with self._lock:
            found = self._days.get(key)
            if found is None or found[0] < time.monotonic():
                return None
            self._days.move_to_end(key)
            return found[1]

    def put(self, key: tuple, rows: list[dict]) -> None:
        with self._lock:
            self._days[key] = (time.monotonic() + self.seconds, rows)
            self._days.move_to_end(key)
            while len(self._days) > self.max_days:
                self._days.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._days.clear()


PAST_DAYS = PastDays()


def item_day_totals(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                    zone: zoneinfo.ZoneInfo, today: datetime.date | None = None) -> list[dict]:
    """Per business day and item: what profit by the cost in force on the day of sale needs."""
    today = today or today_in(zone)
    lines: list[dict] = []
    last_past_day = min(end, today - datetime.timedelta(days=1))
    if start <= last_past_day:
        keys = {day: (store_id, zone.key, day) for day in days_of(start, last_past_day)}
        known = {day: PAST_DAYS.get(key) for day, key in keys.items()}
        missing = [day for day, rows in known.items() if rows is None]
        if missing:
            by_day: dict[str, list[dict]] = collections.defaultdict(list)
            for line in _item_day_rows(session=session, store_id=store_id, start=missing[0], end=missing[-1],
                                       zone=zone):
                by_day[line["date"]].append(line)
            for day in missing:
                known[day] = by_day.get(day.isoformat(), [])
                PAST_DAYS.put(keys[day], known[day])
        for day in keys:
            lines.extend(known[day])
    if end >= today:
        lines.extend(_item_day_rows(session=session, store_id=store_id, start=max(start, today), end=end, zone=zone))
    return lines


def _item_day_rows(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                   zone: zoneinfo.ZoneInfo) -> list[dict]:
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
