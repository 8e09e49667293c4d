"""The dashboard's copy of consulting results, fed from the Kafka topic `consulting`.

Each result is upserted by req_id and the partition position is stored in the same
transaction, so a restart neither loses a message nor applies one twice. A memory-only
broker that restarted loses its log: the consumer notices (its position is past the
log's end, or the record before its position is no longer the one it applied) and reads
the partition again from the earliest offset; the upsert by req_id makes that harmless.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import logging
import threading
import time
import uuid

from kafka import TopicPartition
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from salesync_common.errors import NotFound
from salesync_common.kafka_client import CONSULTING_TOPIC, KafkaError, ensure_topic, new_consumer
from salesync_common.liveness import Liveness

from .models import ConsultingResult, ConsumerPosition

log = logging.getLogger(__name__)

IDLE_CHECK_SECONDS = 2.0
# A stored position past the broker's log end starts the partition over only when seen this many checks in a row.
BEHIND_CHECKS_BEFORE_START_OVER = 2


@dataclasses.dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: str | None
    value: bytes | None


def result_for(*, session: Session, store_id: int, req_id: str) -> ConsultingResult:
    try:
        wanted = uuid.UUID(req_id)
    except ValueError:
        raise NotFound("컨설팅 결과가 없습니다.", error="consulting_not_found") from None
    result = session.scalar(select(ConsultingResult).where(ConsultingResult.req_id == wanted,
                                                           ConsultingResult.store_id == store_id))
    if result is None:
        raise NotFound("컨설팅 결과가 없습니다.", error="consulting_not_found")
    return result


def stored_positions(*, session: Session, topic: str = CONSULTING_TOPIC) -> dict[int, ConsumerPosition]:
    rows = session.scalars(select(ConsumerPosition).where(ConsumerPosition.topic == topic))
    return {row.partition: row for row in rows}


def apply_records(*, session: Session, records: list[Record], topic: str = CONSULTING_TOPIC) -> int:
    """Upsert the results and advance the positions in one transaction; returns how many were new."""
    new = 0
    last: dict[int, Record] = {}
    for record in records:
        last[record.partition] = record
        payload = _parse(record)
        if payload is None:
            continue
        inserted = session.execute(
            insert(ConsultingResult).values(**payload).on_conflict_do_nothing(index_elements=["req_id"])
            .returning(ConsultingResult.req_id)
        ).first()
        new += inserted is not None
    for partition, record in last.items():
        session.execute(
            insert(ConsumerPosition)
            .values(topic=topic, partition=partition, next_offset=record.offset + 1, last_key=record.key)
            .on_conflict_do_update(index_elements=["topic", "partition"],
                                   set_={"next_offset": record.offset + 1, "last_key": record.key})
        )
    session.commit()  # results and positions together: a restart neither loses a message nor applies one twice
    return new


def _parse(record: Record) -> dict | None:
    try:
        payload = json.loads(record.value or b"")
        return {
            "req_id": uuid.UUID(str(payload["req_id"])),
            "store_id": int(payload["store_id"]),
            "source": str(payload.get("source") or "unknown")[:20],
            "consulting": str(payload["consulting"]),
            "created_at": datetime.datetime.fromisoformat(payload["created_at"]) if payload.get("created_at")
            else datetime.datetime.now(datetime.UTC),
        }
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("skipping a malformed message at %s/%s: %s", record.partition, record.offset, exc)
        return None


def start_over(*, session: Session, partition: int, topic: str = CONSULTING_TOPIC) -> None:
    session.execute(
        ConsumerPosition.__table__.delete()
        .where(ConsumerPosition.topic == topic, ConsumerPosition.partition == partition))
    session.commit()  # forgotten now: a restart reads the partition from its start too


class ConsultingFeed:
    """Reads every partition of the topic into the dashboard schema until stopped."""

    def __init__(self, *, session_factory, bootstrap_servers: str, topic: str = CONSULTING_TOPIC,
                 liveness: Liveness | None = None):
        self.session_factory = session_factory
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.stopping = threading.Event()
        self.consumer = None
        self.partitions: list[TopicPartition] = []
        self.verifying: dict[TopicPartition, int] = {}
        self.behind_seen: dict[TopicPartition, int] = {}
        self.last_check = 0.0
        self.liveness = liveness or Liveness(None)

    def run(self) -> None:
        backoff = 0.2
        # One loop: each pass (a poll of 0.2 s, or a reconnect bounded by the Kafka client's timeouts)
        # touches the liveness file, so a pass that never ends lets it age past the probe's limit.
        while not self.stopping.is_set():
            self.liveness.beat("consulting-feed")
            try:
                if self.consumer is None:
                    self._connect()
                self.poll_once()
                backoff = 0.2
            except (KafkaError, DBAPIError) as exc:
                # Positions are stored with the results, so reconnecting and reading on is safe.
                log.warning("Kafka or the database unavailable (%s); retrying in %.1f s", exc, backoff)
                self._disconnect()
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self._disconnect()

    def stop(self) -> None:
        self.stopping.set()

    def _connect(self) -> None:
        ensure_topic(self.bootstrap_servers, self.topic)
        self.consumer = new_consumer(self.bootstrap_servers)
        self.partitions = []
        self._assign(self.consumer.partitions_for_topic(self.topic) or {0})
        self.last_check = time.monotonic()

    def _assign(self, partitions) -> None:
        """Read these partitions too: each from its stored position, or from its start."""
        added = [TopicPartition(self.topic, p) for p in sorted(partitions)
                 if TopicPartition(self.topic, p) not in self.partitions]
        if not added:
            return
        self.partitions = sorted(self.partitions + added, key=lambda tp: tp.partition)
        self.consumer.assign(self.partitions)  # keeps the positions of the partitions it already had
        with self.session_factory() as session:
            positions = stored_positions(session=session, topic=self.topic)
        for tp in added:
            position = positions.get(tp.partition)
            if position is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, position.next_offset)
                self._verify_later(tp, position.next_offset)

    def _disconnect(self) -> None:
        if self.consumer is not None:
            with contextlib.suppress(Exception):
                self.consumer.close()
        self.consumer = None
        self.verifying.clear()
        self.behind_seen.clear()

    def _verify_later(self, tp: TopicPartition, next_offset: int) -> None:
        """Re-read the last applied record, to check the broker still has the log we applied."""
        if next_offset > 0:
            self.consumer.seek(tp, next_offset - 1)
            self.verifying[tp] = next_offset - 1

    def poll_once(self) -> int:
        batches = self.consumer.poll(timeout_ms=200, max_records=500)
        applied = 0
        with self.session_factory() as session:
            positions = None
            for tp, messages in batches.items():
                if tp in self.verifying:
                    expected_offset = self.verifying.pop(tp)
                    if positions is None:
                        positions = stored_positions(session=session, topic=self.topic)
                    stored = positions.get(tp.partition)
                    first = messages[0]
                    if stored is not None and (first.offset != expected_offset or _key(first) != stored.last_key):
                        log.warning("the broker's log of %s changed under us; reading it again from the start", tp)
                        start_over(session=session, partition=tp.partition, topic=self.topic)
                        self.consumer.seek_to_beginning(tp)
                        continue
                records = [Record(tp.partition, m.offset, _key(m), m.value) for m in messages]
                applied += apply_records(session=session, records=records, topic=self.topic)
                self.behind_seen.pop(tp, None)
        if not batches and time.monotonic() - self.last_check > IDLE_CHECK_SECONDS:
            self._check_position()
        return applied

    def _check_position(self) -> None:
        """Idle: read partitions added to the topic since; if our position is past the end of the
        broker's log (twice running), start over."""
        self.last_check = time.monotonic()
        partitions = self.consumer.partitions_for_topic(self.topic)
        if partitions:
            self._assign(partitions)
        ends = self.consumer.end_offsets(self.partitions)
        with self.session_factory() as session:
            positions = stored_positions(session=session, topic=self.topic)
            for tp in self.partitions:
                stored = positions.get(tp.partition)
                if stored is None:
                    continue
                if stored.next_offset > ends.get(tp, 0):
                    # end_offsets() can under-report; act only when it says so twice in a row.
                    self.behind_seen[tp] = self.behind_seen.get(tp, 0) + 1
                    if self.behind_seen[tp] >= BEHIND_CHECKS_BEFORE_START_OVER:
                        log.warning("position %s of %s is past the broker's log end %s; starting over",
                                    stored.next_offset, tp, ends.get(tp, 0))
                        start_over(session=session, partition=tp.partition, topic=self.topic)
                        self.consumer.seek_to_beginning(tp)
                        self.behind_seen.pop(tp, None)
                else:
                    self.behind_seen.pop(tp, None)
                    if tp not in self.verifying:
                        self._verify_later(tp, stored.next_offset)


def _key(message) -> str | None:
    return message.key.decode() if message.key is not None else None
