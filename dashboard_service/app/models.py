"""Tables of the dashboard schema."""
from __future__ import annotations

import datetime
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from salesync_common.database import make_database

db = make_database("dashboard")

SMS, RECORDED = "sms", "recorded"
SENDING, SENT, FAILED = "sending", "sent", "failed"


class Settlement(db.Model):
    """One press of 정산 for a business day: the figures, the text, and what became of the SMS.

    A first SMS of a day is sent once: while one is being sent or has been sent, the partial
    unique index refuses another (a resend is its own row and does not count). Rows that were
    only recorded (no AWS configuration, no mobile number) or whose SMS failed do not count either.
    Every row counts towards the SMS limits (app/sms_quota.py).
    """
    __tablename__ = "settlements"
    __table_args__ = (
        CheckConstraint("channel IN ('sms', 'recorded')", name="channel_known"),
        CheckConstraint("status IN ('sending', 'sent', 'recorded', 'failed')", name="status_known"),
        CheckConstraint("(channel = 'recorded') = (status = 'recorded')", name="recorded_only_by_recording"),
        CheckConstraint("status <> 'sent' OR sns_message_id IS NOT NULL", name="sent_has_message_id"),
        CheckConstraint("status <> 'failed' OR failure_reason IS NOT NULL", name="failed_has_reason"),
        Index("uq_settlements_one_sms_per_day", "store_id", "business_date", unique=True,
              postgresql_where=text("status IN ('sending', 'sent') AND NOT resend")),
        Index("ix_settlements_store_date", "store_id", "business_date"),
        # The SMS limits count a store's messages in the last 24 hours and the deployment's of the day.
        Index("ix_settlements_store_created", "store_id", "created_at"),
        Index("ix_settlements_created", "created_at"),
    )

    settlement_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(Integer, nullable=False)
    business_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    figures: Mapped[dict] = mapped_column(JSONB, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    resend: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    sns_message_id: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class ConsultingResult(db.Model):
    """A consulting result as it arrived on the Kafka topic `consulting` (one row per req_id)."""
    __tablename__ = "consulting_results"

    req_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    store_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    consulting: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class ConsumerPosition(db.Model):
    """The next offset to read per topic partition, written in the same transaction as the results."""
    __tablename__ = "consumer_positions"

    topic: Mapped[str] = mapped_column(String(100), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_key: Mapped[str | None] = mapped_column(String(100))


class DeadLetter(db.Model):
    """A record of a topic the consumer could not store, kept instead of stopping on it.

    Written in the transaction that moves the consumer's position past the record. The raw key
    and value are kept up to the consumer's size limit (key_size and value_size say how long they
    were); reason is a short code (the metric's label), detail says what was wrong.
    """
    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_position", "topic", "partition", "offset"),
        Index("ix_dead_letters_dead_lettered_at", "dead_lettered_at"),  # the purge's: letters past their time
    )

    dead_letter_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    partition: Mapped[int] = mapped_column(Integer, nullable=False)
    offset: Mapped[int] = mapped_column(BigInteger, nullable=False)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_size: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[bytes | None] = mapped_column(LargeBinary)
    value_size: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(40), nullable=False)
    detail: Mapped[str] = mapped_column(String(500), nullable=False)
    dead_lettered_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
