"""GET /sales/: the store's completed sales a page at a time, newest first.

Keyset pagination on (completed_at, sale_id) descending, served by the index on (store_id, completed_at,
sale_id) read backwards. A page's cursor names its last sale and the next page starts strictly after it,
so a sale paid between two pages (newer than the first) neither shifts the pages nor repeats a sale.
The cursor is opaque to clients: base64url of the store id, the sale's completion time and its id; a
cursor that does not decode, or that another store's list returned, answers 400 naming `cursor`.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import json
import re

from sqlalchemy import Row, Select, select, tuple_
from sqlalchemy.orm import Session

from salesync_common.database import MAX_ID
from salesync_common.errors import ValidationFailed

from .models import COMPLETED, Refund, Sale
from .revenue import sale_view

_DIGITS = re.compile(r"[0-9]{1,9}", re.ASCII)
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,200}", re.ASCII)
Position = tuple[datetime.datetime, int]


def parse_limit(raw: str | None, *, default: int, maximum: int) -> int:
    if raw is None:
        return default
    limit = int(raw) if _DIGITS.fullmatch(raw) else 0
    if not 1 <= limit <= maximum:
        raise ValidationFailed(f"limit must be a whole number from 1 to {maximum}", field="limit")
    return limit


def encode_cursor(store_id: int, sale: Sale | Row) -> str:
    raw = json.dumps([store_id, sale.completed_at.isoformat(), sale.sale_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(raw: str | None, *, store_id: int) -> Position | None:
    """The position after which the page starts; None for the first page."""
    if raw is None:
        return None
    try:
        owner, position = _position(raw)
    except (ValueError, TypeError, binascii.Error):  # JSON and Unicode decode errors are ValueErrors
        raise ValidationFailed("cursor is not one this list returned", field="cursor") from None
    if owner != store_id:
        raise ValidationFailed("cursor belongs to another store's list", field="cursor")
    return position


def _position(raw: str) -> tuple[int, Position]:
    if not _CURSOR.fullmatch(raw):
        raise ValueError("not base64url")
    owner, completed_at, sale_id = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    if not all(type(number) is int and 0 < number <= MAX_ID for number in (owner, sale_id)):
        raise ValueError("not an id")
    when = datetime.datetime.fromisoformat(completed_at)
    if when.tzinfo is None:
        raise ValueError("no time zone")
    return owner, (when, sale_id)


def page_query(*, store_id: int, limit: int, after: Position | None) -> Select:
    """The page's sales and one more (is there a next page?), newest first."""
    # Plain rows, not ORM objects: a page is up to 500 sales, and building and tracking a Sale and a Refund
    # object for each was most of the sale service's CPU for this read.
    query = (select(Sale.sale_id, Sale.order_id, Sale.table_no, Sale.total_price, Sale.completed_at,
                    Sale.payment_method, Refund.created_at.label("refunded_at"))
             .outerjoin(Refund, Refund.sale_id == Sale.sale_id)
             .where(Sale.store_id == store_id, Sale.status == COMPLETED)
             .order_by(Sale.completed_at.desc(), Sale.sale_id.desc())
             .limit(limit + 1))
    if after is not None:
        query = query.where(tuple_(Sale.completed_at, Sale.sale_id) < tuple_(*after))
    return query


def page_of_sales(*, session: Session, store_id: int, limit: int, after: Position | None) -> dict:
    """{"sales": up to `limit` sales newest first, "limit": limit, "next_cursor": None on the last page}."""
    rows = session.execute(page_query(store_id=store_id, limit=limit, after=after)).all()
    page = rows[:limit]
    next_cursor = encode_cursor(store_id, page[-1]) if len(rows) > limit else None
    return {"sales": [sale_view(sale) for sale in page], "limit": limit, "next_cursor": next_cursor}
