"""The menu as the POS draws it: enabled categories, each with its enabled items and today's cost."""
from __future__ import annotations

import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .categories import list_categories
from .costs import costs_in_force
from .items import item_view
from .models import Item


def menu(*, session: Session, store_id: int, today: datetime.date) -> list[dict]:
    categories = list_categories(session=session, store_id=store_id)
    in_force = costs_in_force(store_id=store_id, day=today)
    items: dict[int, list[dict]] = {category.category_id: [] for category in categories}
    for item, cost in session.execute(
            select(Item, in_force.c.cost)
            .outerjoin(in_force, in_force.c.item_id == Item.item_id)
            .where(Item.store_id == store_id, Item.enabled)
            .order_by(Item.item_id)):
        if item.category_id in items:
            items[item.category_id].append(item_view(item, with_category_id=False, cost=cost))
    return [{"category_id": category.category_id, "category_name": category.name,
             "items": items[category.category_id]} for category in categories]
