"""Tables of the order schema."""
from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from salesync_common.database import make_database
from salesync_common.idempotency import make_idempotency_model

db = make_database("order")

MAX_TABLE_NO = 99
OPEN, PAID, CANCELLED = "open", "paid", "cancelled"


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"table_no BETWEEN 0 AND {MAX_TABLE_NO}", name="table_no_range"),
        CheckConstraint("status IN ('open', 'paid', 'cancelled')", name="status_known"),
        CheckConstraint("total_price >= 0", name="total_not_negative"),
        CheckConstraint("(status = 'paid') = (paid_at IS NOT NULL AND sale_id IS NOT NULL)", name="paid_has_sale"),
        # A table has at most one open order.
        Index("uq_orders_open_table", "store_id", "table_no", unique=True, postgresql_where=text("status = 'open'")),
        Index("ix_orders_store_paid_at", "store_id", "paid_at", postgresql_where=text("status = 'paid'")),
        Index("uq_orders_sale_id", "sale_id", unique=True, postgresql_where=text("sale_id IS NOT NULL")),
    )

    order_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(Integer, nullable=False)
    table_no: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=OPEN)
    total_price: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    sale_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    paid_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.line_id", lazy="selectin")


class OrderLine(db.Model):
    """One item on an order, with its name and unit price as they were when ordered."""
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity BETWEEN 1 AND 999", name="quantity_range"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        Index("uq_order_lines_order_item", "order_id", "item_id", unique=True),
    )

    line_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False)
    item_id: Mapped[int] = mapped_column(Integer, nullable=False)
    item_name: Mapped[str] = mapped_column(String(100), nullable=False)
    unit_price: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)

    order: Mapped[Order] = relationship(back_populates="lines")


class ItemDay(db.Model):
    """Paid order lines summed per store, business day of the payment and item: what the reports read
    instead of every line. The payment that closes an order adds its lines in the same transaction."""
    __tablename__ = "item_days"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("sales_volume >= 0", name="sales_volume_not_negative"),
        # The report reads a period per item, days in order (reports.py): in this order, not sorted each time.
        Index("ix_item_days_store_item_day", "store_id", "item_id", "business_day"),
    )

    store_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_day: Mapped[datetime.date] = mapped_column(Date, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_name: Mapped[str] = mapped_column(String(100), nullable=False)  # as last sold that day
    quantity: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sales_volume: Mapped[int] = mapped_column(BigInteger, nullable=False)  # at the prices sold


IdempotencyKey = make_idempotency_model(db)
