"""The refund item-day aggregate: refunded lines summed per store, business day of the refund, business day
of the refunded sale and item, so the reports never read every refund line.

A refund adds its lines in the transaction that records them (the refund itself, or the reconciler for a
refund booked before refunds kept their lines), with one upsert: refunds booked at once on the same keys
all count. Business days are the store's, in the time zone it has when the refund is booked.
"""
from __future__ import annotations

import zoneinfo

from sqlalchemy import text
from sqlalchemy.orm import Session

# Lines unique per (refund, item); ordered by item so refunds sharing items lock rows in one order.
_ADD_REFUND = text("""
    INSERT INTO sale.refund_item_days AS day
        (store_id, business_day, sold_on, item_id, item_name, quantity, sales_volume)
    SELECT r.store_id, date(timezone(:zone, r.created_at)), date(timezone(:zone, r.order_paid_at)), l.item_id,
           l.item_name, l.quantity, l.quantity::bigint * l.unit_price
    FROM sale.refunds r JOIN sale.refund_lines l ON l.refund_id = r.refund_id
    WHERE r.refund_id = :refund_id AND r.order_paid_at IS NOT NULL
    ORDER BY l.item_id
    ON CONFLICT (store_id, business_day, sold_on, item_id) DO UPDATE
    SET quantity = day.quantity + excluded.quantity,
        sales_volume = day.sales_volume + excluded.sales_volume,
        item_name = excluded.item_name
""")

_DELETE_STORE = text("DELETE FROM sale.refund_item_days WHERE store_id = :store_id")

_COUNT_STORE = text("""
    INSERT INTO sale.refund_item_days (store_id, business_day, sold_on, item_id, item_name, quantity, sales_volume)
    SELECT r.store_id, date(timezone(:zone, r.created_at)), date(timezone(:zone, r.order_paid_at)), l.item_id,
           (array_agg(l.item_name ORDER BY r.order_paid_at DESC))[1],
           sum(l.quantity), sum(l.quantity::bigint * l.unit_price)
    FROM sale.refunds r JOIN sale.refund_lines l ON l.refund_id = r.refund_id
    WHERE r.store_id = :store_id AND r.order_paid_at IS NOT NULL
    GROUP BY 1, 2, 3, 4
""")


def add_refund(*, session: Session, refund_id: int, zone: zoneinfo.ZoneInfo) -> None:
    """Count a refund's lines (call once, in the transaction that records them)."""
    session.execute(_ADD_REFUND, {"refund_id": refund_id, "zone": zone.key})


def recount_store(*, session: Session, store_id: int, zone: zoneinfo.ZoneInfo) -> None:
    """Rebuild a store's refund item days from its refund lines, on business days of `zone`."""
    session.execute(_DELETE_STORE, {"store_id": store_id})
    session.execute(_COUNT_STORE, {"store_id": store_id, "zone": zone.key})
