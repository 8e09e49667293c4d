"""What a consulting job reads from the payments: the totals of the period and of the period of the same
length just before it (one aggregation over both), and the lines the period's refunds took back."""
from __future__ import annotations

import datetime

from sqlalchemy.orm import Session

from salesync_common.business_day import previous_period

from .revenue import daily_revenue, refunded_lines

TOTALS = ("sales_volume", "payments", "refunds", "cash_total", "card_total")


def sale_summary(*, session: Session, store_id: int, start: datetime.date, end: datetime.date) -> dict:
    """From the day aggregates, which hold each payment and refund on its business day in the store's zone."""
    before_start, before_end = previous_period(start, end)
    days = daily_revenue(session=session, store_id=store_id, start=before_start, end=end)
    return {
        "period": _totals(days, start, end),
        "previous": _totals(days, before_start, before_end),
        "refund_lines": refunded_lines(session=session, store_id=store_id, start=start, end=end),
    }


def _totals(days: list[dict], start: datetime.date, end: datetime.date) -> dict:
    inside = [day for day in days if start.isoformat() <= day["date"] <= end.isoformat()]
    return {"start_date": start.isoformat(), "end_date": end.isoformat(),
            **{key: sum(day[key] for day in inside) for key in TOTALS}}
