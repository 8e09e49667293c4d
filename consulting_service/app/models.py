"""Tables of the consulting schema."""
from __future__ import annotations

import datetime
import uuid

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from salesync_common.database import make_database

db = make_database("consulting")

PENDING, RUNNING, SUCCESS, FAILED = "pending", "running", "success", "failed"
# The advice's source: the model, the rules (no key), or the rules after an unusable answer of the model.
OPENAI, RULE_BASED, FALLBACK = "openai", "rule_based", "fallback"
MAX_REASON = 500


class ConsultingJob(db.Model):
    """One consulting request of a store over a period.

    A worker claims a pending job (running, with a lease); a job whose lease ran out (its
    worker died) is claimed again. `attempts` counts claims and fences the outcome: only the
    claim that is still current may finish the job. `turn` is the job's place in the round-robin
    across stores: workers take the lowest turn first, and a store's next job gets the turn after
    its last unfinished one, so one store's backlog cannot hold another store's job back.
    """
    __tablename__ = "consulting_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'success', 'failed')", name="status_known"),
        CheckConstraint("source IS NULL OR source IN ('openai', 'rule_based', 'fallback')", name="source_known"),
        CheckConstraint("end_date >= start_date", name="period_in_order"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("(status = 'running') = (lease_until IS NOT NULL)", name="running_has_lease"),
        CheckConstraint("(status IN ('success', 'failed')) = (finished_at IS NOT NULL)", name="finished_has_time"),
        CheckConstraint("status <> 'success' OR (consulting IS NOT NULL AND source IS NOT NULL)",
                        name="success_has_consulting"),
        CheckConstraint("status <> 'failed' OR failure_reason IS NOT NULL", name="failed_has_reason"),
        CheckConstraint("turn >= 0", name="turn_not_negative"),
        # What workers look for: unfinished jobs, lowest turn first, then oldest.
        Index("ix_consulting_jobs_claim_order", "turn", "created_at", "req_id",
              postgresql_where=text("status IN ('pending', 'running')")),
        # A store's unfinished jobs: its quota, its same-period job and its last turn.
        Index("ix_consulting_jobs_store_unfinished", "store_id", "turn",
              postgresql_where=text("status IN ('pending', 'running')")),
        Index("ix_consulting_jobs_store_created_at", "store_id", "created_at"),
        # What the purge looks for: jobs finished long ago.
        Index("ix_consulting_jobs_finished_at", "finished_at", postgresql_where=text("finished_at IS NOT NULL")),
    )

    req_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    store_id: Mapped[int] = mapped_column(Integer, nullable=False)
    start_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=PENDING)
    source: Mapped[str | None] = mapped_column(String(20))
    consulting: Mapped[str | None] = mapped_column(Text)
    # The figures the advice was written from (figures.period_figures), kept to check or explain it later.
    figures: Mapped[dict | None] = mapped_column(JSONB)
    failure_reason: Mapped[str | None] = mapped_column(String(MAX_REASON))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    turn: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    started_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxMessage(db.Model):
    """A Kafka message written in the transaction that produced it; the relay publishes it afterwards."""
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # What the relay looks for: unsent rows, in id order.
        Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL")),
        # One message per key: a job's result is announced once.
        Index("uq_outbox_topic_message_key", "topic", "message_key", unique=True),
        # What the purge looks for: rows delivered long ago.
        Index("ix_outbox_sent_at", "sent_at", postgresql_where=text("sent_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(100), nullable=False)
    message_key: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    sent_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    next_attempt_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(String(MAX_REASON))
