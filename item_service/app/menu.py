"""The menu as the POS draws it: enabled categories, each with its enabled items and today's cost."""
from __future__ import annotations

import datetime

from sqlalchemy import Date, Integer, bindparam, select
from sqlalchemy.orm import Session

from .categories import list_categories
from .costs import costs_in_force
from .items import item_view
from .models import Item

# Built once with bound parameters: the menu is the POS's most frequent read, and building the
# statement (and its cache key) on every request cost more CPU than running it. Plain rows, not ORM
# objects, for the same reason.
_STORE, _DAY = bindparam("store_id", type_=Integer), bindparam("day", type_=Date)
_IN_FORCE = costs_in_force(store_id=_STORE, day=_DAY)
MENU_ITEMS = (select(Item.item_id, Item.category_id, Item.name, Item.price, _IN_FORCE.c.cost)
              .outerjoin(_IN_FORCE, _IN_FORCE.c.item_id == Item.item_id)
              .where(Item.store_id == _STORE, Item.enabled)
              .order_by(Item.item_id))


def menu(*, session: Session, store_id: int, today: datetime.date) -> list[dict]:
    categories = list_categories(session=session, store_id=store_id)
    items: dict[int, list[dict]] = {category.category_id: [] for category in categories}
    for item in session.execute(MENU_ITEMS, {"store_id": store_id, "day": today}):
        if item.category_id in items:
            items[item.category_id].append(item_view(item, with_category_id=False, cost=item.cost))
    return [{"category_id": category.category_id, "category_name": category.name,
             "items": items[category.category_id]} for category in categories]
