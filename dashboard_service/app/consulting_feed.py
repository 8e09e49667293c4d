"""The dashboard's copy of consulting results, fed from the Kafka topic `consulting`.

Each result is upserted by req_id and the partition position is stored in the same
transaction, so a restart neither loses a message nor applies one twice. A memory-only
broker that restarted loses its log: the consumer notices (its position is past the
log's end, or the record before its position is no longer the one it applied) and reads
the partition again from the earliest offset; the upsert by req_id makes that harmless.

A record the dashboard cannot store (poison: a key or value that is not UTF-8 or not JSON, NaN or
Infinity, a field missing, of the wrong type, out of range or too long, or a row the database refuses
for its data) is written to dashboard.dead_letters with its position, raw key and value (up to
DASHBOARD_DEAD_LETTER_MAX_BYTES each) and the reason, in the transaction that moves the position past
it. Only a database or broker that cannot be reached is retried; the liveness file is touched only
after a pass that finished, so a loop that keeps failing stops looking alive.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import threading
import time
import uuid

from kafka import TopicPartition
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

from salesync_common.contracts.consulting import ConsultingResultMessage
from salesync_common.errors import NotFound
from salesync_common.kafka_client import CONSULTING_TOPIC, KafkaError, ensure_topic, new_consumer
from salesync_common.liveness import Liveness

from .models import ConsultingResult, ConsumerPosition, DeadLetter

log = logging.getLogger(__name__)

IDLE_CHECK_SECONDS = 2.0
# A stored position past the broker's log end starts the partition over only when seen this many checks in a row.
BEHIND_CHECKS_BEFORE_START_OVER = 2
# The raw key and value of a dead letter are kept up to this many bytes each (DASHBOARD_DEAD_LETTER_MAX_BYTES).
DEFAULT_DEAD_LETTER_MAX_BYTES = 16 * 1024
DETAIL_CHARS = 500
MAX_KEY_MARK = 100  # consumer_positions.last_key
# SQLSTATE classes of an error about the row itself: 22 data exception (numeric overflow, a string too
# long, a character the encoding lacks), 23 integrity constraint violation, 54 program limit exceeded.
RECORD_SQLSTATE_CLASSES = frozenset({"22", "23", "54"})

# Why a record was dead-lettered: the label of the metric salesync_consumer_dead_letters.
KEY_NOT_UTF8 = "key_not_utf8"
KEY_NOT_REQ_ID = "key_not_req_id"
VALUE_MISSING = "value_missing"
VALUE_NOT_UTF8 = "value_not_utf8"
VALUE_NOT_JSON = "value_not_json"
VALUE_NOT_FINITE = "value_not_finite"
VALUE_NOT_OBJECT = "value_not_object"
FIELD_MISSING = "field_missing"
FIELD_WRONG_TYPE = "field_wrong_type"
FIELD_OUT_OF_RANGE = "field_out_of_range"
FIELD_TOO_LONG = "field_too_long"
FIELD_BAD_TEXT = "field_bad_text"
DATABASE_REFUSED = "database_refused"
UNREADABLE = "unreadable"
REASONS = (KEY_NOT_UTF8, KEY_NOT_REQ_ID, VALUE_MISSING, VALUE_NOT_UTF8, VALUE_NOT_JSON, VALUE_NOT_FINITE,
           VALUE_NOT_OBJECT, FIELD_MISSING, FIELD_WRONG_TYPE, FIELD_OUT_OF_RANGE, FIELD_TOO_LONG, FIELD_BAD_TEXT,
           DATABASE_REFUSED, UNREADABLE)


@dataclasses.dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class Poison(Exception):
    """A record the dashboard cannot store: `reason` is one of REASONS, `detail` says what was wrong."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


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


@dataclasses.dataclass
class Applied:
    new: int = 0
    dead_letters: int = 0


def apply_records(*, session: Session, records: list[Record], topic: str = CONSULTING_TOPIC,
                  dead_letter_max_bytes: int = DEFAULT_DEAD_LETTER_MAX_BYTES) -> Applied:
    """Upsert the results, dead-letter what cannot be stored and advance the positions past both, in one
    transaction. A database error that is not about one record (an outage) is raised: nothing is applied."""
    applied = Applied()
    last: dict[int, Record] = {}
    for record in records:
        last[record.partition] = record
        try:
            applied.new += _store(session, _read(record))
        except Poison as poison:
            dead_letter(session=session, topic=topic, record=record, poison=poison, max_bytes=dead_letter_max_bytes)
            applied.dead_letters += 1
    for partition, record in last.items():
        mark = key_mark(record.key)
        session.execute(
            insert(ConsumerPosition)
            .values(topic=topic, partition=partition, next_offset=record.offset + 1, last_key=mark)
            .on_conflict_do_update(index_elements=["topic", "partition"],
                                   set_={"next_offset": record.offset + 1, "last_key": mark})
        )
    session.commit()  # results, dead letters and positions together: a restart neither loses nor repeats one
    return applied


def read_record(record: Record) -> ConsultingResultMessage:
    """The record as the consulting service published it, or Poison saying why it is not one."""
    if record.key is None:
        raise Poison(KEY_NOT_REQ_ID, "the record has no key (results are keyed by req_id)")
    try:
        key = record.key.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Poison(KEY_NOT_UTF8, f"the key is not UTF-8: {exc}") from None
    if record.value is None:
        raise Poison(VALUE_MISSING, "the record has no value")
    try:
        text = record.value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Poison(VALUE_NOT_UTF8, f"the value is not UTF-8: {exc}") from None
    document = _json_object(text)
    try:
        message = ConsultingResultMessage.model_validate_json(text, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        detail = "; ".join(f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}"
                           for error in errors)
        raise Poison(_field_reason(errors[0]["type"]), detail) from None
    if key != str(message.req_id) and key != document.get("req_id"):
        raise Poison(KEY_NOT_REQ_ID, "the key is not the value's req_id")
    return message


def _read(record: Record) -> ConsultingResultMessage:
    try:
        return read_record(record)
    except Poison:
        raise
    except Exception as exc:  # a surprise in reading one record must not stop the feed on it forever
        raise Poison(UNREADABLE, f"{type(exc).__name__}: {exc}") from None


def _json_object(text: str) -> dict:
    """The value as a JSON object; NaN and Infinity, which Python's json reads, are refused."""
    def refuse(constant):
        raise Poison(VALUE_NOT_FINITE, f"the value holds {constant}, which is not JSON")
    try:
        document = json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, over-long integers, nesting too deep
        raise Poison(VALUE_NOT_JSON, f"the value is not JSON: {exc}"[:DETAIL_CHARS]) from None
    if not isinstance(document, dict):
        raise Poison(VALUE_NOT_OBJECT, f"the value is a JSON {type(document).__name__}, not an object")
    return document


def _field_reason(error_type: str) -> str:
    if error_type == "missing":
        return FIELD_MISSING
    if error_type == "json_invalid":  # what Python's json reads and the contract's parser does not (a lone surrogate)
        return VALUE_NOT_JSON
    if error_type in ("string_too_long", "too_long"):
        return FIELD_TOO_LONG
    if error_type.startswith(("greater_than", "less_than")) or error_type in ("string_too_short", "too_short"):
        return FIELD_OUT_OF_RANGE
    if error_type == "value_error":
        return FIELD_BAD_TEXT
    return FIELD_WRONG_TYPE


def _store(session: Session, message: ConsultingResultMessage) -> bool:
    """Insert one result in a savepoint; a refusal about this record (its data, a constraint) is Poison."""
    try:
        with session.begin_nested():
            inserted = session.execute(
                insert(ConsultingResult).values(**message.model_dump())
                .on_conflict_do_nothing(index_elements=["req_id"]).returning(ConsultingResult.req_id)
            ).first()
    except DBAPIError as exc:
        if not about_the_record(exc):
            raise
        raise Poison(DATABASE_REFUSED, f"{type(exc.orig).__name__} ({exc.orig.pgcode}): {exc.orig}") from None
    except (StatementError, ValueError) as exc:  # the driver could not even send it (a NUL, say)
        raise Poison(DATABASE_REFUSED, f"{type(exc).__name__}: {exc}") from None
    return inserted is not None


def about_the_record(exc: DBAPIError) -> bool:
    """A data exception (a value out of range, too long), a constraint, or a size limit: the record's
    fault, and trying it again fails again. Anything else (connections, timeouts, locks) may pass later."""
    code = getattr(exc.orig, "pgcode", None) or ""
    return not exc.connection_invalidated and code[:2] in RECORD_SQLSTATE_CLASSES


def dead_letter(*, session: Session, topic: str, record: Record, poison: Poison, max_bytes: int) -> None:
    log.warning("dead-lettering the record at %s/%s/%s: %s", topic, record.partition, record.offset, poison)
    session.add(DeadLetter(
        topic=topic, partition=record.partition, offset=record.offset,
        key=None if record.key is None else record.key[:max_bytes],
        key_size=None if record.key is None else len(record.key),
        value=None if record.value is None else record.value[:max_bytes],
        value_size=None if record.value is None else len(record.value),
        reason=poison.reason, detail=_printable(poison.detail)))
    session.flush()


def _printable(text: str) -> str:
    """Storable and bounded: no NUL, no lone surrogates."""
    text = text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:DETAIL_CHARS]


def key_mark(key: bytes | None) -> str | None:
    """What a position remembers of the last record's key, to recognise it later: the key itself when it
    is short UTF-8 text (a req_id), else a digest of it (any bytes fit)."""
    if key is None:
        return None
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and len(text) <= MAX_KEY_MARK and "\x00" not in text:
        return text
    return "sha256:" + hashlib.sha256(key).hexdigest()


def start_over(*, session: Session, partition: int, topic: str = CONSULTING_TOPIC) -> None:
    session.execute(
        ConsumerPosition.__table__.delete()
        .where(ConsumerPosition.topic == topic, ConsumerPosition.partition == partition))
    session.commit()  # forgotten now: a restart reads the partition from its start too


class ConsultingFeed:
    """Reads every partition of the topic into the dashboard schema until stopped."""

    def __init__(self, *, session_factory, bootstrap_servers: str, topic: str = CONSULTING_TOPIC,
                 liveness: Liveness | None = None, dead_letter_max_bytes: int = DEFAULT_DEAD_LETTER_MAX_BYTES):
        self.session_factory = session_factory
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.dead_letter_max_bytes = dead_letter_max_bytes
        self.stopping = threading.Event()
        self.consumer = None
        self.partitions: list[TopicPartition] = []
        self.verifying: dict[TopicPartition, int] = {}
        self.behind_seen: dict[TopicPartition, int] = {}
        self.last_check = 0.0
        self.liveness = liveness or Liveness(None)

    def run(self) -> None:
        backoff = 0.2
        # One loop: a pass (a poll of 0.2 s and storing what it read, or a reconnect bounded by the Kafka
        # client's timeouts) touches the liveness file only when it finished. A pass that never ends, or
        # that fails every time, lets the file age past the probe's limit.
        while not self.stopping.is_set():
            try:
                if self.consumer is None:
                    self._connect()
                self.poll_once()
                self.liveness.beat("consulting-feed")
                backoff = 0.2
            except Exception as exc:
                # Positions are stored with the results, so reconnecting and reading on is safe. A record
                # never gets here (it is dead-lettered); what does is the broker or the database being away.
                if isinstance(exc, KafkaError | DBAPIError):
                    log.warning("Kafka or the database unavailable (%s); retrying in %.1f s", exc, backoff)
                else:
                    log.exception("the consulting feed failed; retrying in %.1f s", backoff)
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
            for tp, batch in batches.items():
                messages = self._verified(session, tp, batch) if tp in self.verifying else batch
                if messages:
                    records = [Record(tp.partition, m.offset, m.key, m.value) for m in messages]
                    applied += apply_records(session=session, records=records, topic=self.topic,
                                             dead_letter_max_bytes=self.dead_letter_max_bytes).new
                self.behind_seen.pop(tp, None)
        if not batches and time.monotonic() - self.last_check > IDLE_CHECK_SECONDS:
            self._check_position()
        return applied

    def _verified(self, session: Session, tp: TopicPartition, messages: list) -> list:
        """The batch that starts with the re-read of the last applied record, without it (it was applied:
        a dead letter would be written twice). If the broker's log changed under us, nothing: the partition
        is read again from its start."""
        expected_offset = self.verifying.pop(tp)
        stored = stored_positions(session=session, topic=self.topic).get(tp.partition)
        if stored is None:
            return messages
        first = messages[0]
        if first.offset != expected_offset or key_mark(first.key) != stored.last_key:
            log.warning("the broker's log of %s changed under us; reading it again from the start", tp)
            start_over(session=session, partition=tp.partition, topic=self.topic)
            self.consumer.seek_to_beginning(tp)
            return []
        return messages[1:]

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

