"""The menu as the POS draws it: enabled categories, each with its enabled items and today's cost."""
from __future__ import annotations

import datetime

from sqlalchemy import Date, Integer, and_, bindparam, select
from sqlalchemy.orm import Session

from .costs import costs_in_force
from .items import item_view
from .models import Category, Item

# One statement, built once with bound parameters: the menu is the POS's most frequent read, and
# building the statement (and its cache key) on every request cost more CPU than running it. The
# enabled categories joined with their enabled items (a category without items still comes, with a
# null item) and each item's cost in force, read as plain rows, not ORM objects.
_STORE, _DAY = bindparam("store_id", type_=Integer), bindparam("day", type_=Date)
_IN_FORCE = costs_in_force(store_id=_STORE, day=_DAY)
MENU_ROWS = (select(Category.category_id, Category.name.label("category_name"), Item.item_id, Item.name,
                    Item.price, _IN_FORCE.c.cost)
             .outerjoin(Item, and_(Item.category_id == Category.category_id, Item.store_id == _STORE, Item.enabled))
             .outerjoin(_IN_FORCE, _IN_FORCE.c.item_id == Item.item_id)
             .where(Category.store_id == _STORE, Category.enabled)
             .order_by(Category.category_id, Item.item_id))


def menu(*, session: Session, store_id: int, today: datetime.date) -> list[dict]:
    tree: dict[int, dict] = {}
    for row in session.execute(MENU_ROWS, {"store_id": store_id, "day": today}):
        category = tree.get(row.category_id)
        if category is None:
            category = tree[row.category_id] = {"category_id": row.category_id, "category_name": row.category_name,
                                                "items": []}
        if row.item_id is not None:
            category["items"].append(item_view(row, with_category_id=False, cost=row.cost))
    return list(tree.values())
