"""The item-day aggregate: paid order lines summed per store, business day of the payment and item.

A payment adds its order's lines in the transaction that closes the order, with one upsert: two payments
of the same item on the same day at once both count (the second waits for the first's row, then adds to
it). The business day is the store's, in the time zone it has when the payment is made; a past day keeps
the figures it was booked with if the store later changes its time zone (recount_store rebuilds them).
"""
from __future__ import annotations

import zoneinfo

from sqlalchemy import text
from sqlalchemy.orm import Session

# Lines unique per (order, item): one row per key in the insert. Ordered by item so two payments that share
# items lock their rows in the same order and cannot deadlock.
_ADD_ORDER = text("""
    INSERT INTO "order".item_days AS day (store_id, business_day, item_id, item_name, quantity, sales_volume)
    SELECT o.store_id, date(timezone(:zone, o.paid_at)), l.item_id, l.item_name, l.quantity,
           l.quantity::bigint * l.unit_price
    FROM "order".orders o JOIN "order".order_lines l ON l.order_id = o.order_id
    WHERE o.order_id = :order_id AND o.status = 'paid'
    ORDER BY l.item_id
    ON CONFLICT (store_id, business_day, item_id) DO UPDATE
    SET quantity = day.quantity + excluded.quantity,
        sales_volume = day.sales_volume + excluded.sales_volume,
        item_name = excluded.item_name
""")

_DELETE_STORE = text('DELETE FROM "order".item_days WHERE store_id = :store_id')

_COUNT_STORE = text("""
    INSERT INTO "order".item_days (store_id, business_day, item_id, item_name, quantity, sales_volume)
    SELECT o.store_id, date(timezone(:zone, o.paid_at)), l.item_id,
           (array_agg(l.item_name ORDER BY o.paid_at DESC, l.line_id DESC))[1],
           sum(l.quantity), sum(l.quantity::bigint * l.unit_price)
    FROM "order".orders o JOIN "order".order_lines l ON l.order_id = o.order_id
    WHERE o.store_id = :store_id AND o.status = 'paid'
    GROUP BY 1, 2, 3
""")


def add_paid_order(*, session: Session, order_id: int, zone: zoneinfo.ZoneInfo) -> None:
    """Count a just-paid order's lines on its business day (call once, in the transaction that pays it)."""
    session.execute(_ADD_ORDER, {"order_id": order_id, "zone": zone.key})


def recount_store(*, session: Session, store_id: int, zone: zoneinfo.ZoneInfo) -> None:
    """Rebuild a store's item days from its paid lines, on business days of `zone` (after a payment history
    was moved, or the store changed its time zone). Payments of the store must not run meanwhile."""
    session.execute(_DELETE_STORE, {"store_id": store_id})
    session.execute(_COUNT_STORE, {"store_id": store_id, "zone": zone.key})
