"""How far the dashboard consumer is behind: the end of each partition of the topic, asked of Kafka
when Prometheus scrapes, minus the position the consumer stored with its results. The consumer process
serves no HTTP; its positions are in the database, so the web app reports its lag."""
from __future__ import annotations

import threading

from kafka import TopicPartition
from sqlalchemy.orm import Session

from salesync_common.kafka_client import CONSULTING_TOPIC, new_consumer

from .consulting_feed import stored_positions


class LogEnds:
    """The end offset of each partition of a topic. One Kafka client per process, made on first use and
    dropped after a failure (the next scrape makes a new one)."""

    def __init__(self, bootstrap_servers: str, topic: str = CONSULTING_TOPIC):
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self._lock = threading.Lock()
        self._client = None

    def read(self) -> dict[int, int]:
        with self._lock:
            try:
                if self._client is None:
                    self._client = new_consumer(self.bootstrap_servers)
                partitions = self._client.partitions_for_topic(self.topic) or set()
                ends = self._client.end_offsets([TopicPartition(self.topic, p) for p in sorted(partitions)])
            except Exception:
                self.close()
                raise
        return {tp.partition: offset for tp, offset in ends.items()}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None


def consumer_lag(*, session: Session, ends: dict[int, int],
                 topic: str = CONSULTING_TOPIC) -> list[tuple[list[str], int]]:
    """([topic, partition], records not yet stored) per partition; a partition never read is behind by its end."""
    positions = stored_positions(session=session, topic=topic)
    return [([topic, str(partition)], max(0, end - (positions[partition].next_offset if partition in positions else 0)))
            for partition, end in sorted(ends.items())]
