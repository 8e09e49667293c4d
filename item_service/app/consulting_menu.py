"""What a consulting job reads from the menu: the items on sale now (to name those not sold in a period)
and the items a period sold (deleted ones too), each with its price and its cost history over the period.
Two queries: the items, then their costs (costs.cost_history)."""
from __future__ import annotations

import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from .costs import cost_history
from .models import MAX_ID, Category, Item


def menu_with_costs(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                    item_ids: list[int]) -> list[dict]:
    wanted = sorted({item_id for item_id in item_ids if item_id <= MAX_ID})
    on_menu = and_(Item.enabled, Category.enabled)
    rows = session.execute(
        select(Item.item_id, Item.name, Item.price, on_menu)
        .join(Category, Category.category_id == Item.category_id)
        .where(Item.store_id == store_id, or_(on_menu, Item.item_id.in_(wanted)))
        .order_by(Item.item_id)).all()
    history = {entry["item_id"]: entry["costs"] for entry in cost_history(
        session=session, store_id=store_id, start=start, end=end, item_ids=[row.item_id for row in rows])}
    return [{"item_id": item_id, "name": name, "price": price, "on_menu": bool(listed),
             "costs": history.get(item_id, [])} for item_id, name, price, listed in rows]
