"""Tables of the sale schema."""
from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from salesync_common.database import make_database
from salesync_common.idempotency import make_idempotency_model

db = make_database("sale")

PENDING, COMPLETED, FAILED = "pending", "completed", "failed"
PAYMENT_LABELS = {"cash": "현금", "card": "카드"}


class Sale(db.Model):
    """A payment for one order. It is pending until the order service has closed the table for it."""
    __tablename__ = "sales"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'completed', 'failed')", name="status_known"),
        CheckConstraint("payment_method IN ('cash', 'card')", name="payment_method_known"),
        CheckConstraint("total_price >= 0", name="total_not_negative"),
        CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name="completed_has_time"),
        # One live payment per order: a second one for the same order cannot exist.
        Index("uq_sales_live_order", "order_id", unique=True, postgresql_where=text("status <> 'failed'")),
        # The POS's Idempotency-Key, so a retry after a crash finds the sale the reconciler finished.
        # Not unique: the key row serialises retries, and a key may come back after it expired.
        Index("ix_sales_idempotency_key", "store_id", "idempotency_key",
              postgresql_where=text("idempotency_key IS NOT NULL")),
        # GET /sales/ reads it backwards (newest first, its cursor a row comparison); the reports take ranges.
        Index("ix_sales_store_completed_at_sale", "store_id", "completed_at", "sale_id",
              postgresql_where=text("status = 'completed'")),
        Index("ix_sales_pending", "created_at", postgresql_where=text("status = 'pending'")),
    )

    sale_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(Integer, nullable=False)
    order_id: Mapped[int] = mapped_column(Integer, nullable=False)
    table_no: Mapped[int] = mapped_column(Integer, nullable=False)
    total_price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    payment_method: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=PENDING)
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    completed_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class Refund(db.Model):
    """A refund (void) of a completed sale: negative revenue on the business day it was made."""
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index("ix_refunds_store_created_at", "store_id", "created_at"),
    )

    refund_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.sale_id"), nullable=False, unique=True)
    store_id: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    # When the refunded order was paid (its lines count in the reports from that business day); null for
    # a refund recorded before refunds kept their lines.
    order_paid_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list[RefundLine]] = relationship(cascade="all, delete-orphan", order_by="RefundLine.item_id")


class RefundLine(db.Model):
    """What a refund takes back: one line of the refunded order, its name and unit price as ordered
    (an order's lines never change once paid, so this copy stays equal to them)."""
    __tablename__ = "refund_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )

    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.refund_id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_name: Mapped[str] = mapped_column(String(100), nullable=False)
    unit_price: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)


class RefundItemDay(db.Model):
    """Refunded lines summed per store, business day of the refund, business day of the sale and item: what
    the reports read instead of every refund line. A refund adds its lines in the transaction that books
    them."""
    __tablename__ = "refund_item_days"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("sales_volume >= 0", name="sales_volume_not_negative"),
    )

    store_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_day: Mapped[datetime.date] = mapped_column(Date, primary_key=True)  # of the refund
    sold_on: Mapped[datetime.date] = mapped_column(Date, primary_key=True)  # of the refunded order's payment
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_name: Mapped[str] = mapped_column(String(100), nullable=False)  # as ordered, the latest sale's
    quantity: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sales_volume: Mapped[int] = mapped_column(BigInteger, nullable=False)


class RevenueDay(db.Model):
    """Payments and refunds summed per store and business day, by payment method: what the revenue reports
    read instead of every sale. A completed payment and a refund each add to it in their own transaction."""
    __tablename__ = "revenue_days"
    __table_args__ = (
        CheckConstraint("payments >= 0", name="payments_not_negative"),
        CheckConstraint("paid_cash >= 0 AND paid_card >= 0", name="paid_not_negative"),
        CheckConstraint("refunded_cash >= 0 AND refunded_card >= 0", name="refunded_not_negative"),
    )

    store_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_day: Mapped[datetime.date] = mapped_column(Date, primary_key=True)
    payments: Mapped[int] = mapped_column(Integer, nullable=False)  # completed payments made that day
    paid_cash: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid_card: Mapped[int] = mapped_column(BigInteger, nullable=False)
    refunded_cash: Mapped[int] = mapped_column(BigInteger, nullable=False)  # refunds made that day, by the
    refunded_card: Mapped[int] = mapped_column(BigInteger, nullable=False)  # method of the sale refunded


IdempotencyKey = make_idempotency_model(db)
