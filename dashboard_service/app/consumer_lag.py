"""How far the dashboard consumer is behind: the end of each partition of the topic, asked of Kafka
when Prometheus scrapes, minus the position the consumer stored with its results. The consumer process
serves no HTTP; its positions are in the database, so the web app reports its lag."""
from __future__ import annotations

import threading
import time

from kafka import TopicPartition
from sqlalchemy.orm import Session

from salesync_common.kafka_client import CONSULTING_TOPIC, new_consumer

from .consulting_feed import stored_positions


class LogEnds:
    """The end offset of each partition of a topic. One Kafka client per process, made on first use and
    dropped after a failure. A scrape never waits for Kafka behind another scrape (it skips the lag while
    one asks), and after a failure the scrapes of the next `retry_seconds` skip it at once: a hung Kafka
    costs one scrape its timeout, not every scrape, so /metrics stays within Prometheus' scrape timeout."""

    def __init__(self, bootstrap_servers: str, topic: str = CONSULTING_TOPIC, *, retry_seconds: float = 60):
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._client = None
        self._retry_at = 0.0

    def read(self) -> dict[int, int]:
        if time.monotonic() < self._retry_at:
            raise KafkaUnanswered(f"Kafka did not answer lately; asking again in {self.retry_seconds} s at most")
        if not self._lock.acquire(blocking=False):
            raise KafkaUnanswered("another scrape is asking Kafka")
        try:
            if self._client is None:
                self._client = new_consumer(self.bootstrap_servers)
            partitions = self._client.partitions_for_topic(self.topic) or set()
            ends = self._client.end_offsets([TopicPartition(self.topic, p) for p in sorted(partitions)])
        except Exception:
            self._retry_at = time.monotonic() + self.retry_seconds
            self._close()
            raise
        finally:
            self._lock.release()
        return {tp.partition: offset for tp, offset in ends.items()}

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None


class KafkaUnanswered(Exception):
    """The lag is left out of this scrape without asking Kafka."""


def consumer_lag(*, session: Session, ends: dict[int, int],
                 topic: str = CONSULTING_TOPIC) -> list[tuple[list[str], int]]:
    """([topic, partition], records not yet stored) per partition; a partition never read is behind by its end."""
    positions = stored_positions(session=session, topic=topic)
    return [([topic, str(partition)], max(0, end - (positions[partition].next_offset if partition in positions else 0)))
            for partition, end in sorted(ends.items())]
