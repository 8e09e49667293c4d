"""The outbox relay against a real Kafka-protocol broker: sent once acknowledged, kept while the broker is down."""
import datetime
import json
import threading
import time
import uuid

import pytest
from sqlalchemy import select

from consulting_service.app import outbox
from consulting_service.app.models import OutboxMessage

from .conftest import read_topic, records_with_key


def add_results(sessions, count):
    keys = [str(uuid.uuid4()) for _ in range(count)]
    with sessions() as session:
        for key in keys:
            outbox.add_message(session=session, topic="consulting", key=key,
                               payload={"req_id": key, "store_id": 1, "source": "rule_based", "consulting": "세트",
                                        "created_at": datetime.datetime.now(datetime.UTC).isoformat()})
        session.commit()
    return keys


def relay(sessions, publisher):
    with sessions() as session:
        return outbox.relay_pending(session=session, publisher=publisher)


def rows(sessions, keys):
    with sessions() as session:
        found = session.scalars(select(OutboxMessage).where(OutboxMessage.message_key.in_(keys))
                                .order_by(OutboxMessage.id)).all()
    return {row.message_key: row for row in found}


@pytest.fixture
def publishers():
    made = []

    def _publisher(broker):
        made.append(outbox.Publisher(broker.bootstrap_servers))
        return made[-1]

    yield _publisher
    for publisher in made:
        publisher.reset()


def test_the_relay_publishes_in_id_order_and_marks_rows_sent_once_acknowledged(sessions, kafka_broker, publishers):
    keys = add_results(sessions, 3)
    publisher = publishers(kafka_broker)

    assert relay(sessions, publisher) == outbox.RelayOutcome(sent=3, failed=0)
    assert relay(sessions, publisher) == outbox.RelayOutcome(sent=0, failed=0)

    assert all(row.sent_at is not None and row.attempts == 0 for row in rows(sessions, keys).values())
    on_topic = [record for record in read_topic(kafka_broker.bootstrap_servers) if record.key.decode() in keys]
    assert [record.key.decode() for record in on_topic] == keys
    assert json.loads(on_topic[0].value) == rows(sessions, keys)[keys[0]].payload


def test_results_wait_in_the_outbox_while_the_broker_is_down_and_then_arrive_once(sessions, own_kafka_broker,
                                                                                  publishers):
    publisher = publishers(own_kafka_broker)
    add_results(sessions, 1)
    assert relay(sessions, publisher).sent == 1  # the producer is warm
    own_kafka_broker.stop()
    waiting = add_results(sessions, 3)

    assert relay(sessions, publisher) == outbox.RelayOutcome(sent=0, failed=3)
    assert relay(sessions, publisher) == outbox.RelayOutcome(sent=0, failed=0)  # none due yet: backing off

    for row in rows(sessions, waiting).values():
        assert row.sent_at is None and row.attempts == 1 and row.last_error
        assert row.next_attempt_at > row.created_at
    own_kafka_broker.restart()  # a memory-only broker: it comes back empty
    sent, deadline = 0, time.monotonic() + 10
    while sent < 3 and time.monotonic() < deadline:
        sent += relay(sessions, publisher).sent
        time.sleep(0.05)

    assert sent == 3
    for key in waiting:
        [record] = records_with_key(own_kafka_broker.bootstrap_servers, key)
        assert json.loads(record.value)["req_id"] == key
    assert all(row.sent_at is not None for row in rows(sessions, waiting).values())


def test_a_relay_that_cannot_reach_any_broker_gives_up_quickly(sessions, own_kafka_broker, publishers):
    own_kafka_broker.stop()
    keys = add_results(sessions, 2)

    began = time.monotonic()
    outcome = relay(sessions, publishers(own_kafka_broker))

    assert outcome == outbox.RelayOutcome(sent=0, failed=2)
    assert time.monotonic() - began < 2
    assert all("BrokerUnreachable" in row.last_error for row in rows(sessions, keys).values())


def test_two_relays_racing_send_each_message_once(sessions, kafka_broker, publishers):
    keys = add_results(sessions, 30)
    barrier = threading.Barrier(2)
    outcomes = []

    def relay_all(publisher):
        barrier.wait()
        outcomes.append(relay(sessions, publisher))

    threads = [threading.Thread(target=relay_all, args=(publishers(kafka_broker),)) for _ in range(2)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]

    assert sum(outcome.sent for outcome in outcomes) == 30
    counts = {}
    for record in read_topic(kafka_broker.bootstrap_servers):
        counts[record.key.decode()] = counts.get(record.key.decode(), 0) + 1
    assert all(counts.get(key) == 1 for key in keys)


@pytest.mark.parametrize("failures,low,high", [(1, 0.375, 0.5), (2, 0.75, 1.0), (4, 3.0, 4.0), (7, 22.5, 30.0),
                                               (60, 22.5, 30.0)])
def test_the_backoff_doubles_up_to_thirty_seconds_with_jitter(failures, low, high):
    delays = [outbox.backoff_seconds(failures) for _ in range(50)]
    assert all(low <= delay <= high for delay in delays)
    assert len(set(delays)) > 1
