"""Tables of the item schema: categories, menu items and the history of item costs."""
from __future__ import annotations

import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from salesync_common.database import make_database

db = make_database("item")

MAX_CATEGORY_NAME = 50
MAX_ITEM_NAME = 100
MAX_WON = 100_000_000
# Ids above this cannot exist in an integer column; callers treat them as unknown.
MAX_ID = 2_147_483_647

# Names of the indexes that keep enabled names unique within a store.
CATEGORY_NAME_TAKEN = "uq_categories_store_id_name_enabled"
ITEM_NAME_TAKEN = "uq_items_store_id_name_enabled"

UNIQUE_VIOLATION = "23505"


class Category(db.Model):
    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("char_length(name) >= 1", name="name_not_empty"),
        # Lets an item's foreign key require that its category belongs to the same store.
        UniqueConstraint("category_id", "store_id"),
        Index(CATEGORY_NAME_TAKEN, "store_id", "name", unique=True, postgresql_where=text("enabled")),
    )

    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(MAX_CATEGORY_NAME), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true(), default=True)
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class Item(db.Model):
    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("char_length(name) >= 1", name="name_not_empty"),
        CheckConstraint(f"price >= 0 AND price <= {MAX_WON}", name="price_range"),
        ForeignKeyConstraint(["category_id", "store_id"], ["categories.category_id", "categories.store_id"]),
        # Lets a cost's foreign key require that its item belongs to the same store.
        UniqueConstraint("item_id", "store_id"),
        Index(ITEM_NAME_TAKEN, "store_id", "name", unique=True, postgresql_where=text("enabled")),
        Index("ix_items_store_id", "store_id"),
        Index("ix_items_category_id", "category_id"),
    )

    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(Integer, nullable=False)
    category_id: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(MAX_ITEM_NAME), nullable=False)
    price: Mapped[int] = mapped_column(Integer, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true(), default=True)
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class ItemCost(db.Model):
    """The cost of an item from its effective business day until the next entry's."""
    __tablename__ = "item_costs"
    __table_args__ = (
        CheckConstraint(f"cost >= 0 AND cost <= {MAX_WON}", name="cost_range"),
        ForeignKeyConstraint(["item_id", "store_id"], ["items.item_id", "items.store_id"]),
        UniqueConstraint("item_id", "effective_date"),
        Index("ix_item_costs_store_id_effective_date", "store_id", "effective_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(Integer, nullable=False)
    item_id: Mapped[int] = mapped_column(Integer, nullable=False)
    cost: Mapped[int] = mapped_column(Integer, nullable=False)
    effective_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


def violated_unique_index(exc: IntegrityError) -> str | None:
    """The name of the unique index or constraint a failed write ran into, if that was the failure."""
    diag = getattr(exc.orig, "diag", None)
    if getattr(exc.orig, "pgcode", None) != UNIQUE_VIOLATION or diag is None:
        return None
    return diag.constraint_name
