"""Menu categories of a store: list, create, rename and delete (soft, together with their items)."""
from __future__ import annotations

from sqlalchemy import Integer, Row, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesync_common.errors import Conflict, NotFound

from .limits import CATEGORY_LOCK, create_below_limit, insert_below_limit, refuse_category_past_limit
from .models import CATEGORY_NAME_TAKEN, MAX_ID, Category, Item, violated_unique_index


class CategoryNotFound(NotFound):
    error = "category_not_found"

    def __init__(self, message: str = "존재하지 않는 카테고리.", **extra):
        super().__init__(message, **extra)


class DuplicateCategory(Conflict):
    error = "duplicate_category"

    def __init__(self):
        super().__init__("존재하는 카테고리", field="name")


# Read on every POS screen: built once with a bound store id, and plain rows, not ORM objects (building
# the statement and tracking objects was most of the item service's CPU for this read).
ENABLED_CATEGORIES = (select(Category.category_id, Category.name)
                      .where(Category.store_id == bindparam("store_id", type_=Integer), Category.enabled)
                      .order_by(Category.category_id))


def list_categories(*, session: Session, store_id: int) -> list[Row]:
    """The store's enabled categories as rows of (category_id, name)."""
    return list(session.execute(ENABLED_CATEGORIES, {"store_id": store_id}))


def get_category(*, session: Session, store_id: int, category_id: int, lock: str | None = None,
                 not_found: str = "존재하지 않는 카테고리.") -> Category:
    """The store's enabled category; another store's, a deleted or an unknown id is a 404.

    lock="share" holds the row until commit so a concurrent delete cannot disable the
    category while an item goes into it; lock="update" is for the delete itself.
    """
    if not 0 < category_id <= MAX_ID:
        raise CategoryNotFound(not_found)
    query = select(Category).where(
        Category.category_id == category_id, Category.store_id == store_id, Category.enabled)
    if lock:
        query = query.with_for_update(read=lock == "share")
    category = session.scalar(query)
    if category is None:
        raise CategoryNotFound(not_found)
    return category


# The insert with its two checks, built once (a create is half of the load tests' categories mix).
_INSERT_CATEGORY = insert_below_limit(Category, name_column=Category.name, store_id_column=Category.store_id,
                                      enabled_column=Category.enabled, fields={})


def create_category(*, session: Session, store_id: int, name: str, limit: int) -> int:
    """A new enabled category's id; 409 when the name is taken or the store already has `limit` categories.
    Under the store's lock, so parallel creates cannot pass the limit together."""
    return create_below_limit(session, _INSERT_CATEGORY, {"store_id": store_id, "name": name, "limit": limit},
                              lock=CATEGORY_LOCK, name_index=CATEGORY_NAME_TAKEN, duplicate=DuplicateCategory,
                              refuse_past_limit=refuse_category_past_limit)


def rename_category(*, session: Session, store_id: int, category_id: int, name: str) -> Category:
    category = get_category(session=session, store_id=store_id, category_id=category_id)
    _refuse_taken_name(session=session, store_id=store_id, name=name, except_id=category_id)
    category.name = name
    _flush(session)
    return category


def delete_category(*, session: Session, store_id: int, category_id: int) -> Category:
    """Disable the category and every item in it, in one transaction."""
    category = get_category(session=session, store_id=store_id, category_id=category_id, lock="update",
                            not_found="카테고리가 존재하지 않습니다.")
    category.enabled = False
    session.flush()
    session.execute(update(Item).where(Item.category_id == category_id, Item.store_id == store_id, Item.enabled)
                    .values(enabled=False))
    return category


def _refuse_taken_name(*, session: Session, store_id: int, name: str, except_id: int | None = None) -> None:
    query = select(Category.category_id).where(
        Category.store_id == store_id, Category.name == name, Category.enabled)
    if except_id is not None:
        query = query.where(Category.category_id != except_id)
    if session.scalar(query.limit(1)) is not None:
        raise DuplicateCategory()


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        # Two requests raced for one name; the partial unique index picked the winner.
        if violated_unique_index(exc) == CATEGORY_NAME_TAKEN:
            raise DuplicateCategory() from None
        raise
