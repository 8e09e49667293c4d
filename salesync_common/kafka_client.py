"""Kafka producers, consumers and topics, configured once for every service.

Settings that matter on the local Tansu broker and are harmless on a real cluster:
idempotent producers do not survive a broker restart there, so they are off (consumers
dedupe by key instead). A consumer's fetch waits up to 500 ms at the broker for a record (Kafka's
default): the broker answers as soon as one is written (Tansu here: 20 ms after the send, against 5 ms
with 50 ms waits), and an idle consumer asks twice a second rather than twenty times (that was 0.07 of a
core, its own and the broker's, for nothing).
"""
from __future__ import annotations

import logging

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.serializer import DefaultSerializer, JsonSerializer

log = logging.getLogger(__name__)

CONSULTING_TOPIC = "consulting"


def new_producer(bootstrap_servers: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap_servers.split(","),
        enable_idempotence=False,
        acks="all",
        retries=0,  # the outbox relay retries, with backoff, and only marks acknowledged rows sent
        max_block_ms=3000,
        request_timeout_ms=5000,
        # A broker that is down must fail fast, not block the caller for 30 s (or close() for 120 s).
        bootstrap_timeout_ms=3000,
        delivery_timeout_ms=10000,
        reconnect_backoff_max_ms=2000,
        key_serializer=DefaultSerializer(),  # str keys as UTF-8
        value_serializer=JsonSerializer(),
    )


def new_consumer(bootstrap_servers: str) -> KafkaConsumer:
    """A consumer without a group: the caller assigns partitions and keeps its own positions."""
    return KafkaConsumer(
        bootstrap_servers=bootstrap_servers.split(","),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=500,
        request_timeout_ms=5000,
        bootstrap_timeout_ms=3000,
        reconnect_backoff_max_ms=2000,
        # Topics are created by ensure_topic with their partitions, never by a reader asking for metadata
        # (a broker would make one with its default partition count); partitions added later are seen
        # within this long.
        allow_auto_create_topics=False,
        metadata_max_age_ms=5_000,
    )


def ensure_topic(bootstrap_servers: str, topic: str = CONSULTING_TOPIC, partitions: int = 1) -> None:
    """Create the topic if the broker lacks it (a memory-only broker comes back empty after a restart)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers.split(","), request_timeout_ms=5000,
                             bootstrap_timeout_ms=3000)
    try:
        admin.create_topics([NewTopic(topic, partitions, 1)])
        log.info("created topic %s", topic)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


__all__ = ["CONSULTING_TOPIC", "KafkaError", "ensure_topic", "new_consumer", "new_producer"]
