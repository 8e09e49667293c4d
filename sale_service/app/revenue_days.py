"""The revenue-day aggregate: payments and refunds summed per store and business day, by payment method, so
a year of revenue is 365 rows at most, whatever the number of sales.

A completed payment adds itself in the transaction that completes it, a refund in the transaction that
books it, each with one upsert (payments of one store at once all count). Business days are the store's, in
the time zone it has at that moment.
"""
from __future__ import annotations

import zoneinfo

from sqlalchemy import text
from sqlalchemy.orm import Session

_COLUMNS = "store_id, business_day, payments, paid_cash, paid_card, refunded_cash, refunded_card"
_ADD = """
    ON CONFLICT (store_id, business_day) DO UPDATE
    SET payments = day.payments + excluded.payments,
        paid_cash = day.paid_cash + excluded.paid_cash, paid_card = day.paid_card + excluded.paid_card,
        refunded_cash = day.refunded_cash + excluded.refunded_cash,
        refunded_card = day.refunded_card + excluded.refunded_card
"""
_CASH = "CASE WHEN s.payment_method = 'cash' THEN {amount} ELSE 0 END"
_CARD = "CASE WHEN s.payment_method = 'card' THEN {amount} ELSE 0 END"

_ADD_PAYMENT = text(f"""
    INSERT INTO sale.revenue_days AS day ({_COLUMNS})
    SELECT s.store_id, date(timezone(:zone, s.completed_at)), 1, {_CASH.format(amount="s.total_price")},
           {_CARD.format(amount="s.total_price")}, 0, 0
    FROM sale.sales s WHERE s.sale_id = :sale_id AND s.status = 'completed'
    {_ADD}""")

_ADD_REFUND = text(f"""
    INSERT INTO sale.revenue_days AS day ({_COLUMNS})
    SELECT r.store_id, date(timezone(:zone, r.created_at)), 0, 0, 0, {_CASH.format(amount="r.amount")},
           {_CARD.format(amount="r.amount")}
    FROM sale.refunds r JOIN sale.sales s ON s.sale_id = r.sale_id WHERE r.refund_id = :refund_id
    {_ADD}""")

_DELETE_STORE = text("DELETE FROM sale.revenue_days WHERE store_id = :store_id")

_COUNT_STORE = text(f"""
    INSERT INTO sale.revenue_days AS day ({_COLUMNS})
    SELECT store_id, day, sum(payments), sum(paid_cash), sum(paid_card), sum(refunded_cash), sum(refunded_card)
    FROM (
        SELECT s.store_id, date(timezone(:zone, s.completed_at)) AS day, 1 AS payments,
               {_CASH.format(amount="s.total_price")} AS paid_cash, {_CARD.format(amount="s.total_price")} AS paid_card,
               0 AS refunded_cash, 0 AS refunded_card
        FROM sale.sales s WHERE s.store_id = :store_id AND s.status = 'completed'
        UNION ALL
        SELECT r.store_id, date(timezone(:zone, r.created_at)), 0, 0, 0, {_CASH.format(amount="r.amount")},
               {_CARD.format(amount="r.amount")}
        FROM sale.refunds r JOIN sale.sales s ON s.sale_id = r.sale_id WHERE r.store_id = :store_id
    ) moves
    GROUP BY store_id, day""")


def add_payment(*, session: Session, sale_id: int, zone: zoneinfo.ZoneInfo) -> None:
    """Count a just-completed payment on its business day (once, in the transaction that completes it)."""
    session.execute(_ADD_PAYMENT, {"sale_id": sale_id, "zone": zone.key})


def add_refund(*, session: Session, refund_id: int, zone: zoneinfo.ZoneInfo) -> None:
    """Count a just-booked refund on its business day (once, in the transaction that books it)."""
    session.execute(_ADD_REFUND, {"refund_id": refund_id, "zone": zone.key})


def recount_store(*, session: Session, store_id: int, zone: zoneinfo.ZoneInfo) -> None:
    """Rebuild a store's revenue days from its sales and refunds, on business days of `zone`."""
    session.execute(_DELETE_STORE, {"store_id": store_id})
    session.execute(_COUNT_STORE, {"store_id": store_id, "zone": zone.key})
