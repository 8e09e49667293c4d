"""The size of a store's menu: at most so many enabled categories and items (settings
SALESYNC_MAX_CATEGORIES_PER_STORE and SALESYNC_MAX_ITEMS_PER_STORE); deleted ones do not count.

Counting and inserting happen under a per-store advisory lock held until the transaction ends, so
parallel creates of one store go one at a time and cannot pass the limit together.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from sqlalchemy import Integer, String, bindparam, exists, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesync_common.errors import Conflict

from .models import Category, Item, violated_unique_index

# The first key of each per-store advisory lock (the second is the store id), apart from other locks.
CATEGORY_LOCK = "salesync-menu-categories"
ITEM_LOCK = "salesync-menu-items"


class MenuLimitReached(Conflict):
    def __init__(self, message: str, *, error: str, limit: int):
        super().__init__(message, error=error, limit=limit)


def category_limit() -> int:
    return current_app.extensions["salesync_settings"].max_categories_per_store


def item_limit() -> int:
    return current_app.extensions["salesync_settings"].max_items_per_store


def refuse_category_past_limit(session: Session, *, store_id: int, limit: int) -> None:
    """Wait for the store's other category creates, then refuse when it has `limit` enabled categories."""
    lock_store(session, CATEGORY_LOCK, store_id)
    count = session.scalar(select(func.count()).where(Category.store_id == store_id, Category.enabled))
    if count >= limit:
        raise MenuLimitReached(f"카테고리는 가게당 {limit:,}개까지 등록할 수 있습니다. "
                               "쓰지 않는 카테고리를 삭제한 뒤 다시 등록하세요.",
                               error="category_limit_reached", limit=limit)


def refuse_item_past_limit(session: Session, *, store_id: int, limit: int) -> None:
    """Wait for the store's other item creates, then refuse when it has `limit` enabled items."""
    lock_store(session, ITEM_LOCK, store_id)
    count = session.scalar(select(func.count()).where(Item.store_id == store_id, Item.enabled))
    if count >= limit:
        raise MenuLimitReached(f"품목은 가게당 {limit:,}개까지 등록할 수 있습니다. "
                               "쓰지 않는 품목을 삭제한 뒤 다시 등록하세요.",
                               error="item_limit_reached", limit=limit)


def insert_below_limit(model, *, name_column, store_id_column, enabled_column, fields: dict[str, type]):
    """A prebuilt INSERT .. SELECT of one row of `model` (its `fields`, bound by name with store_id and name)
    that inserts nothing when the store already has `limit` enabled rows or an enabled row of that name,
    returning the new primary key: the create, its limit and its name check in one trip to PostgreSQL (run it
    under the store's lock: lock_store)."""
    store_id, name, limit = (bindparam("store_id", type_=Integer), bindparam("name", type_=String),
                             bindparam("limit", type_=Integer))
    enabled = select(func.count()).where(store_id_column == store_id, enabled_column).scalar_subquery()
    taken = exists().where(store_id_column == store_id, name_column == name, enabled_column)
    values = [store_id, name] + [bindparam(field, type_=kind) for field, kind in fields.items()]
    primary_key = model.__table__.primary_key.columns.values()[0]
    # The table, not the model: a Core insert (the ORM would take the parameters for a bulk insert of rows).
    below_limit = select(*values).where(enabled < limit, ~taken)
    return insert(model.__table__).from_select(["store_id", "name", *fields], below_limit).returning(primary_key)


def create_below_limit(session: Session, insert, params: dict, *, lock: str, name_index: str,
                       duplicate: Callable[[], Exception], refuse_past_limit: Callable[..., None]) -> int:
    """Run an insert_below_limit statement under the store's `lock`; the new id, or the 409 of the check that
    refused it: the limit (refuse_past_limit), else the name taken (duplicate)."""
    lock_store(session, lock, params["store_id"])
    try:
        new_id = session.scalar(insert, params)
    except IntegrityError as exc:
        # Two requests raced for one name (a rename beside this create); the partial unique index picked the winner.
        if violated_unique_index(exc) == name_index:
            raise duplicate() from None
        raise
    if new_id is None:
        refuse_past_limit(session, store_id=params["store_id"], limit=params["limit"])
        raise duplicate()
    return new_id


def lock_store(session: Session, key: str, store_id: int) -> None:
    """Hold the store's CATEGORY_LOCK or ITEM_LOCK until the transaction ends (taken again, it stacks)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key), :store_id)"),
                    {"key": key, "store_id": store_id})
