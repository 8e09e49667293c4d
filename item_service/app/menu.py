"""The menu as the POS draws it: enabled categories, each with its enabled items and today's cost.

The POS reads it on every screen, and a store may have 2,000 items: PostgreSQL writes the reply's JSON in
one statement (the categories joined with their items and each item's cost in force) and it goes out as it
is, with no Python object per item (building them and writing the JSON was four fifths of the item
service's CPU for a large menu). The BFF passes it on unparsed.
"""
from __future__ import annotations

import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from .costs import ITEMS_BY_CATEGORY_CTE

# {"categories": [{category_id, category_name, items: [{item_id, name, price, cost}]}]}: categories by id, a
# category without items with an empty list, items by id, cost null where none is in force on the day.
_MENU_JSON = text(f"""
    WITH {ITEMS_BY_CATEGORY_CTE}
    SELECT json_build_object('categories', coalesce(json_agg(json_build_object(
               'category_id', c.category_id, 'category_name', c.name, 'items', coalesce(items.items, '[]'::json))
               ORDER BY c.category_id), '[]'::json))::text
    FROM item.categories c LEFT JOIN items ON items.category_id = c.category_id
    WHERE c.store_id = :store_id AND c.enabled""")


def menu_json(*, session: Session, store_id: int, today: datetime.date) -> str:
    """The menu reply's JSON, as PostgreSQL wrote it."""
    return session.execute(_MENU_JSON, {"store_id": store_id, "day": today}).scalar_one()
