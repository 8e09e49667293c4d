"""The transactional outbox: a message is written with the change it announces and published afterwards.

The relay claims due unsent rows in id order (FOR UPDATE SKIP LOCKED, so two relays never
send the same row at once), sends each and marks it sent only once the broker has
acknowledged it. A failure leaves the row unsent with its error and a backoff, and the
producer is rebuilt before the next try, with the topic created first (a memory-only broker
that restarted has none). A crash between the acknowledgement and the commit sends a row
again: delivery is at least once, and consumers dedupe by key.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import random
import socket
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from salesync_common.kafka_client import ensure_topic, new_producer

from .models import MAX_REASON, OutboxMessage

log = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 5.0
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
BATCH = 100


def add_message(*, session: Session, topic: str, key: str, payload: dict) -> OutboxMessage:
    message = OutboxMessage(topic=topic, message_key=key, payload=payload)
    session.add(message)
    return message


def is_sent(*, session: Session, topic: str, key: str) -> bool:
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic == topic, OutboxMessage.message_key == key, OutboxMessage.sent_at.is_not(None))) > 0


def backoff_seconds(failures: int) -> float:
    """Before try n+1 after n failures: 0.5 s, 1 s, 2 s, … up to 30 s, less up to a quarter (jitter)."""
    delay = min(BACKOFF_FIRST_SECONDS * 2 ** max(failures - 1, 0), BACKOFF_MAX_SECONDS)
    return delay * (1 - 0.25 * random.random())


class BrokerUnreachable(ConnectionError):
    pass


class Publisher:
    """One Kafka producer, rebuilt after any failure; topics are created before the first send after one."""

    def __init__(self, bootstrap_servers: str, *, producer_factory: Callable = new_producer,
                 topic_creator: Callable = ensure_topic):
        self.bootstrap_servers = bootstrap_servers
        self.producer_factory = producer_factory
        self.topic_creator = topic_creator
        self.producer = None
        self.topics_ready: set[str] = set()

    def send(self, topic: str, key: str, value: dict) -> None:
        """Send one message and wait for the broker's acknowledgement; raises on any failure."""
        if self.producer is None:
            self._check_reachable()
            self.producer = self.producer_factory(self.bootstrap_servers)
        if topic not in self.topics_ready:
            self.topic_creator(self.bootstrap_servers, topic)
            self.topics_ready.add(topic)
        self.producer.send(topic, key=key, value=value).get(timeout=SEND_TIMEOUT_SECONDS)

    def _check_reachable(self) -> None:
        # A Kafka client waits up to 30 s to bootstrap from a broker that is down; a refused connection is quicker.
        for server in self.bootstrap_servers.split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=1.0):
                    return
            except (OSError, ValueError):
                continue
        raise BrokerUnreachable(f"no Kafka broker accepts connections at {self.bootstrap_servers}")

    def reset(self) -> None:
        """After a failure: kafka-python producers can stay wedged after a broker restart, so start afresh."""
        producer, self.producer = self.producer, None
        self.topics_ready.clear()
        if producer is not None:
            _discard(producer)

    def close(self) -> None:
        """Wait a little for anything in flight, then let go."""
        producer, self.producer = self.producer, None
        if producer is not None:
            try:
                producer.close(timeout=SEND_TIMEOUT_SECONDS)
            except Exception:
                _discard(producer)


def _discard(producer) -> None:
    """Close a failed producer now. close() first waits for its unacknowledged batches, up to the
    producer's delivery timeout (120 s), and raises if they are still pending; their senders already
    know they failed, so those batches are aborted instead and the producer's threads end."""
    try:
        producer.close(timeout=0)
        return
    except Exception:
        pass
    sender = getattr(producer, "_sender", None)  # kafka-python has no public abort
    try:
        if sender is not None:
            sender.force_close()
            sender.join(1.0)
        producer.close(timeout=0)
    except Exception:
        log.warning("a failed Kafka producer could not be closed", exc_info=True)


@dataclasses.dataclass
class RelayOutcome:
    sent: int = 0
    failed: int = 0


def relay_pending(*, session: Session, publisher: Publisher, limit: int = BATCH) -> RelayOutcome:
    """Publish the due unsent rows in id order. After a failure the rest of the batch waits too
    (each row counts the try and gets the error and a backoff): they would fail the same way."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= func.clock_timestamp())
        .order_by(OutboxMessage.id).limit(limit)
        .with_for_update(skip_locked=True)).all()
    outcome = RelayOutcome()
    error = None
    for row in rows:
        if error is None:
            try:
                publisher.send(row.topic, row.message_key, row.payload)
                row.sent_at = func.clock_timestamp()
                outcome.sent += 1
                continue
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:MAX_REASON]
                log.warning("publishing outbox message %s to %s failed: %s", row.id, row.topic, error)
                publisher.reset()
        row.attempts += 1
        row.last_error = error
        row.next_attempt_at = func.clock_timestamp() + datetime.timedelta(seconds=backoff_seconds(row.attempts))
        outcome.failed += 1
    session.commit()  # one pass, one transaction: the rows it sent are marked sent, the others wait their backoff
    return outcome
