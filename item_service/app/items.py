"""Menu items of a store: add, read, edit, delete (soft), and the lookup other services make by id."""
from __future__ import annotations

from sqlalchemy import Integer, Row, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesync_common.errors import Conflict, NotFound

from .categories import get_category
from .limits import ITEM_LOCK, create_below_limit, insert_below_limit, refuse_item_past_limit
from .models import ITEM_NAME_TAKEN, MAX_ID, Category, Item, violated_unique_index


class ItemNotFound(NotFound):
    error = "item_not_found"

    def __init__(self, **extra):
        super().__init__("품목이 존재하지 않습니다.", **extra)


class DuplicateItem(Conflict):
    error = "duplicate_item"

    def __init__(self):
        super().__init__("존재하는 품목", field="name")


def item_view(item: Item | Row, *, with_category_id: bool = True, **more) -> dict:
    """An item as every reply shows it: id, name, category (left out where items sit under their category,
    as in the menu tree) and price, then what the reply adds (cost, category_name)."""
    view = {"item_id": item.item_id, "name": item.name}
    if with_category_id:
        view["category_id"] = item.category_id
    return {**view, "price": item.price, **more}


def get_item(*, session: Session, store_id: int, item_id: int, lock: bool = False) -> Item:
    """The store's enabled item; another store's, a deleted or an unknown id is a 404.

    With lock, the row is held until commit, so a concurrent delete of the same item answers 404.
    """
    item = None
    if 0 < item_id <= MAX_ID:
        query = select(Item).where(Item.item_id == item_id, Item.store_id == store_id, Item.enabled)
        item = session.scalar(query.with_for_update() if lock else query)
    if item is None:
        raise ItemNotFound()
    return item


# The insert with its two checks, built once (a create is a third of the load tests' items mix).
_INSERT_ITEM = insert_below_limit(Item, name_column=Item.name, store_id_column=Item.store_id,
                                  enabled_column=Item.enabled, fields={"category_id": Integer, "price": Integer})


def create_item(*, session: Session, store_id: int, category_id: int, name: str, price: int, limit: int) -> int:
    """A new enabled item's id; 404 for an unknown category, 409 when the name is taken or the store already
    has `limit` items. Under the store's lock, so parallel creates cannot pass the limit together."""
    get_category(session=session, store_id=store_id, category_id=category_id, lock="share")
    params = {"store_id": store_id, "name": name, "limit": limit, "category_id": category_id, "price": price}
    return create_below_limit(session, _INSERT_ITEM, params, lock=ITEM_LOCK, name_index=ITEM_NAME_TAKEN,
                              duplicate=DuplicateItem, refuse_past_limit=refuse_item_past_limit)


def update_item(*, session: Session, store_id: int, item_id: int, name: str, price: int,
                category_id: int | None = None) -> Item:
    item = get_item(session=session, store_id=store_id, item_id=item_id, lock=True)
    # Its own enabled category needs no check; locking it would deadlock with a delete of that category.
    if category_id is not None and category_id != item.category_id:
        get_category(session=session, store_id=store_id, category_id=category_id, lock="share")
        item.category_id = category_id
    _refuse_taken_name(session=session, store_id=store_id, name=name, except_id=item_id)
    item.name = name
    item.price = price
    _flush(session)
    return item


def delete_item(*, session: Session, store_id: int, item_id: int) -> Item:
    item = get_item(session=session, store_id=store_id, item_id=item_id, lock=True)
    item.enabled = False
    session.flush()
    return item


def find_items(*, session: Session, store_id: int, item_ids: list[int]) -> list[dict]:
    """The store's orderable items among item_ids, in one query; the other ids are left out."""
    wanted = sorted({item_id for item_id in item_ids if 0 < item_id <= MAX_ID})
    if not wanted:
        return []
    rows = session.execute(
        select(Item, Category.name)
        .join(Category, Category.category_id == Item.category_id)
        .where(Item.store_id == store_id, Item.item_id.in_(wanted), Item.enabled, Category.enabled)
        .order_by(Item.item_id))
    return [item_view(item, category_name=category_name) for item, category_name in rows]


def _refuse_taken_name(*, session: Session, store_id: int, name: str, except_id: int | None = None) -> None:
    query = select(Item.item_id).where(Item.store_id == store_id, Item.name == name, Item.enabled)
    if except_id is not None:
        query = query.where(Item.item_id != except_id)
    if session.scalar(query.limit(1)) is not None:
        raise DuplicateItem()


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        # Two requests raced for one name; the partial unique index picked the winner.
        if violated_unique_index(exc) == ITEM_NAME_TAKEN:
            raise DuplicateItem() from None
        raise
