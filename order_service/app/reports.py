"""Order totals for reports: paid orders only, by the store's business day (the day of payment).

A report reads the item-day aggregate (item_days.py), one row per business day and item sold that day,
never the order lines: its cost grows with the days of the period, not with the orders of those days.
A year is some 15,000 item-days for a 40-item menu, so the reply is columnar: per item, its days, quantities
and sales as three lists of numbers (contracts.orders.ItemDayReport), written by PostgreSQL in one statement
and sent as it is, with no Python object per item-day here and no JSON object per item-day to read there.
"""
from __future__ import annotations

import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

# Every aggregate reads the rows in the order of the index (store, item, day), none sorts them again; the name
# is looked up on each item's last day rather than aggregated in the other order (a sort per item).
_ITEMS = text("""
    SELECT coalesce(json_agg(json_build_object(
               'item_id', item_id, 'name', name, 'days', days, 'quantities', quantities,
               'sales_volumes', sales_volumes) ORDER BY item_id), '[]')::text
    FROM (SELECT item_id, days, quantities, sales_volumes,
                 (SELECT item_name FROM "order".item_days AS named
                  WHERE named.store_id = :store_id AND named.item_id = per_item.item_id
                        AND named.business_day = per_item.last_day) AS name
          FROM (SELECT item_id, max(business_day) AS last_day,
                       array_agg(business_day - CAST(:start AS date) ORDER BY business_day) AS days,
                       array_agg(quantity ORDER BY business_day) AS quantities,
                       array_agg(sales_volume ORDER BY business_day) AS sales_volumes
                FROM "order".item_days
                WHERE store_id = :store_id AND business_day BETWEEN :start AND :end
                GROUP BY item_id) AS per_item) AS named_items""")


def item_day_report(*, session: Session, store_id: int, start: datetime.date, end: datetime.date) -> str:
    """Per item and business day (what profit by the cost in force on the day of sale needs): the JSON body
    of contracts.orders.ItemDayReport, days counted from start, the name the item was last ordered under
    in the period."""
    items = session.execute(_ITEMS, {"store_id": store_id, "start": start, "end": end}).scalar_one()
    return '{"start": "' + start.isoformat() + '", "items": ' + items + "}"
