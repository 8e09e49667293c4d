"""Item costs as a history: each change records the business day it takes effect,
so the cost in force on any past day can be read back (profit uses the cost of the day of sale)."""
from __future__ import annotations

import datetime
import json

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.orm import Session

from salesync_common.errors import ValidationFailed

from .items import ItemNotFound, get_item, item_view
from .models import MAX_ID, Item, ItemCost
from .schemas import CostLine

MAX_DAYS_BACK = 366


def costs_in_force(*, store_id: int, day: datetime.date, item_ids: list[int] | None = None):
    """A subquery of (item_id, cost): each item's latest entry on or before day."""
    query = select(ItemCost.item_id, ItemCost.cost).where(
        ItemCost.store_id == store_id, ItemCost.effective_date <= day)
    if item_ids is not None:
        query = query.where(ItemCost.item_id.in_(item_ids))
    return (query
            .ext(distinct_on(ItemCost.item_id))
            .order_by(ItemCost.item_id, ItemCost.effective_date.desc())
            .subquery("cost_in_force"))


# Each item's cost in force on :day (its latest entry on or before it), as a CTE named cost: the SQL twin of
# costs_in_force for the replies PostgreSQL writes whole.
COST_IN_FORCE_CTE = """
    cost AS (
        SELECT DISTINCT ON (item_id) item_id, cost
        FROM item.item_costs
        WHERE store_id = :store_id AND effective_date <= :day
        ORDER BY item_id, effective_date DESC
    )"""

# Each category's enabled items as JSON, [{item_id, name, price, cost}] by id with the cost in force on :day
# (null where none is): CTEs named cost and items, the menu's and the cost page's common part.
ITEMS_BY_CATEGORY_CTE = f"""{COST_IN_FORCE_CTE},
    items AS (
        SELECT i.category_id,
               json_agg(json_build_object('item_id', i.item_id, 'name', i.name, 'price', i.price, 'cost', cost.cost)
                        ORDER BY i.item_id) AS items
        FROM item.items i LEFT JOIN cost ON cost.item_id = i.item_id
        WHERE i.store_id = :store_id AND i.enabled
        GROUP BY i.category_id
    )"""

# The cost page as the BFF shows it (GET /bff/costs, API.md §8.1): the enabled categories that have enabled
# items, by id, each with its items. PostgreSQL writes it and the BFF passes it on unparsed (a model per item,
# nested again and written out was 2 ms of the BFF's CPU for 360 items, 11 ms at the 2,000-item limit).
_COST_PAGE_JSON = text(f"""
    WITH {ITEMS_BY_CATEGORY_CTE}
    SELECT json_build_object('result', 'success', 'message', :message, 'items', coalesce(json_agg(json_build_object(
               'category_id', c.category_id, 'category_name', c.name, 'items', items.items)
               ORDER BY c.category_id), '[]'::json))::text
    FROM item.categories c JOIN items ON items.category_id = c.category_id
    WHERE c.store_id = :store_id AND c.enabled""")

# The flat cost list (contracts.items.CostList) as PostgreSQL writes it: the enabled items of enabled
# categories with today's cost, by category then item. A store may have 2,000 items: a model and a dict per
# item, then the JSON, were most of the item service's CPU for this page.
_COST_LIST_JSON = text(f"""
    WITH {COST_IN_FORCE_CTE}
    SELECT json_build_object('result', 'success', 'message', :message, 'items', coalesce(json_agg(json_build_object(
               'item_id', i.item_id, 'name', i.name, 'category_id', i.category_id, 'price', i.price,
               'cost', cost.cost, 'category_name', c.name) ORDER BY i.category_id, i.item_id), '[]'::json))::text
    FROM item.items i
    JOIN item.categories c ON c.category_id = i.category_id
    LEFT JOIN cost ON cost.item_id = i.item_id
    WHERE i.store_id = :store_id AND i.enabled AND c.enabled""")


def cost_list_json(*, session: Session, store_id: int, today: datetime.date, message: str) -> str:
    """The flat cost list's reply, {result, message, items: [{item_id, name, category_id, price, cost,
    category_name}]}, as PostgreSQL wrote it."""
    return session.execute(_COST_LIST_JSON, {"store_id": store_id, "day": today, "message": message}).scalar_one()


def cost_page_json(*, session: Session, store_id: int, today: datetime.date, message: str) -> str:
    """The cost page's reply, {result, message, items: [{category_id, category_name, items: [{item_id, name,
    price, cost}]}]}, as PostgreSQL wrote it."""
    return session.execute(_COST_PAGE_JSON, {"store_id": store_id, "day": today, "message": message}).scalar_one()


def set_costs(*, session: Session, store_id: int, lines: list[CostLine], effective_date: datetime.date | None,
              today: datetime.date) -> list[dict]:
    """Record the costs of several items at once: all of them or, on any unknown item, none."""
    day = _effective_day(effective_date, today)
    ids = [line.item_id for line in lines]
    possible = [item_id for item_id in ids if item_id <= MAX_ID]
    items = {item.item_id: item for item in session.scalars(
        select(Item).where(Item.store_id == store_id, Item.item_id.in_(possible), Item.enabled))}
    missing = [item_id for item_id in ids if item_id not in items]
    if missing:
        raise ItemNotFound(field="items", item_ids=missing)
    _record(session, store_id=store_id, day=day,
            costs={line.item_id: line.cost for line in lines if line.cost is not None})
    in_force = _costs_on(session, store_id=store_id, day=day, item_ids=ids)
    return [item_view(items[item_id], cost=in_force.get(item_id)) for item_id in ids]


def set_cost(*, session: Session, store_id: int, item_id: int, cost: int, effective_date: datetime.date | None,
             today: datetime.date) -> dict:
    item = get_item(session=session, store_id=store_id, item_id=item_id)
    day = _effective_day(effective_date, today)
    _record(session, store_id=store_id, day=day, costs={item_id: cost})
    return item_view(item, cost=cost)


# The cost history reply (contracts.items.CostHistoryReport) as PostgreSQL writes it: the store's items among
# :ids (deleted ones too) by id, each with the entry in force on :start, then each change after it up to :end.
# The dashboard asks for it on every report over more than today; built per call with SQLAlchemy, ORM rows and
# pydantic it was 7 ms of the item service's CPU for 40 items.
_COST_HISTORY_JSON = text("""
    WITH wanted AS (
        SELECT item_id, name FROM item.items WHERE store_id = :store_id AND item_id = ANY(:ids)
    ), entries AS (
        (SELECT DISTINCT ON (item_id) item_id, effective_date, cost
         FROM item.item_costs
         WHERE store_id = :store_id AND item_id = ANY(:ids) AND effective_date <= :start
         ORDER BY item_id, effective_date DESC)
        UNION ALL
        SELECT item_id, effective_date, cost
        FROM item.item_costs
        WHERE store_id = :store_id AND item_id = ANY(:ids) AND effective_date > :start AND effective_date <= :end
    ), history AS (
        SELECT item_id, json_agg(json_build_object('effective_date', to_char(effective_date, 'YYYY-MM-DD'),
                                                   'cost', cost) ORDER BY effective_date) AS costs
        FROM entries GROUP BY item_id
    )
    SELECT json_build_object('items', coalesce(json_agg(json_build_object(
               'item_id', w.item_id, 'name', w.name, 'costs', coalesce(h.costs, '[]'::json))
               ORDER BY w.item_id), '[]'::json))::text
    FROM wanted w LEFT JOIN history h ON h.item_id = w.item_id""")


def cost_history_json(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                      item_ids: list[int]) -> str:
    """The store's items among item_ids, deleted ones too, with the entries that set their cost during
    start..end: the one in force on start, then each change after start up to end. Other ids are left out.
    As JSON: {"items": [{item_id, name, costs: [{effective_date, cost}]}]}."""
    wanted = sorted({item_id for item_id in item_ids if item_id <= MAX_ID})
    return session.execute(_COST_HISTORY_JSON,
                           {"store_id": store_id, "ids": wanted, "start": start, "end": end}).scalar_one()


def cost_history(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                 item_ids: list[int]) -> list[dict]:
    """cost_history_json's items as Python values."""
    return json.loads(cost_history_json(session=session, store_id=store_id, start=start, end=end,
                                        item_ids=item_ids))["items"]


def _effective_day(effective_date: datetime.date | None, today: datetime.date) -> datetime.date:
    if effective_date is None:
        return today
    if effective_date < today - datetime.timedelta(days=MAX_DAYS_BACK):
        raise ValidationFailed(f"effective_date: may be at most {MAX_DAYS_BACK} days in the past",
                               field="effective_date")
    return effective_date


def _record(session: Session, *, store_id: int, day: datetime.date, costs: dict[int, int]) -> None:
    """Upsert one history entry per item: a second change on the same day replaces the first."""
    if not costs:
        return
    statement = insert(ItemCost).values([
        {"store_id": store_id, "item_id": item_id, "cost": cost, "effective_date": day}
        for item_id, cost in costs.items()])
    session.execute(statement.on_conflict_do_update(
        index_elements=[ItemCost.item_id, ItemCost.effective_date], set_={"cost": statement.excluded.cost}))


def _costs_on(session: Session, *, store_id: int, day: datetime.date, item_ids: list[int]) -> dict[int, int]:
    if not item_ids:
        return {}
    in_force = costs_in_force(store_id=store_id, day=day, item_ids=item_ids)
    return {item_id: cost for item_id, cost in session.execute(select(in_force.c.item_id, in_force.c.cost))}
