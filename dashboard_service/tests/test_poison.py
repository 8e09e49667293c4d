"""Poison on the topic `consulting`: a record the dashboard cannot store is dead-lettered with its position and
reason, the consumer's position moves past it, a metric counts it, and the next good record is stored."""
import datetime
import json
import threading
import time
import uuid

import psycopg2
import pytest
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text

from dashboard_service.app import consulting_feed
from dashboard_service.app.consulting_feed import ConsultingFeed, Record, apply_records
from dashboard_service.app.models import ConsultingResult, ConsumerPosition, DeadLetter
from dashboard_service.consumer import dead_letter_limit
from salesync_common.contracts.consulting import ConsultingResultMessage
from salesync_common.kafka_client import CONSULTING_TOPIC
from salesync_common.liveness import Liveness, is_fresh
from testsupport.postgres import libpq_url

from .conftest import stored, wait_for

NOW = datetime.datetime.now(datetime.UTC).isoformat()


def good(store_id, req_id=None, **changes):
    req_id = req_id or str(uuid.uuid4())
    return {"req_id": req_id, "store_id": store_id, "source": "rule_based", "consulting": "세트 메뉴를 홍보하세요.",
            "created_at": NOW, **changes}


def as_json(document) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def keyed(document):
    """(key, value) as the consulting service keys a result: by its req_id."""
    return str(document["req_id"]).encode(), as_json(document)


def raw_keyed(template: str):
    """(key, value) of a value written by hand (what json.dumps would not write): {req_id} is filled in."""
    req_id = str(uuid.uuid4())
    return req_id.encode(), template.replace("{req_id}", req_id).replace("{now}", NOW).encode()


def fresh_key():
    return str(uuid.uuid4()).encode()


def poison_kinds(store_id):
    """(reason, key, value) of every kind of record the dashboard cannot store."""
    whole = ('{"req_id": "{req_id}", "store_id": STORE, "source": "rule_based", "consulting": TEXT, '
             '"created_at": "{now}"}')
    by_hand = whole.replace("TEXT", '"x"')
    return [
        ("key_not_utf8", b"\xff\xfe\x00req", as_json(good(store_id))),
        ("key_not_req_id", b"not-the-req-id", as_json(good(store_id))),
        ("key_not_req_id", None, as_json(good(store_id))),
        ("value_missing", fresh_key(), None),
        ("value_not_utf8", fresh_key(), b'{"req_id": "\xc3\x28"}'),
        ("value_not_json", fresh_key(), b"{'req_id': 1"),
        ("value_not_json", fresh_key(), b"[" * 100_000 + b"]" * 100_000),
        ("value_not_json", fresh_key(), b'{"store_id": ' + b"9" * 5000 + b"}"),
        ("value_not_object", fresh_key(), b'["a list"]'),
        ("value_not_finite", *raw_keyed(by_hand.replace("STORE", "NaN"))),
        ("value_not_finite", *raw_keyed(by_hand.replace("STORE", "Infinity"))),
        ("value_not_finite", *raw_keyed(by_hand.replace("STORE", "-Infinity"))),
        ("field_missing", *keyed({"req_id": str(uuid.uuid4()), "store_id": store_id})),
        ("field_wrong_type", *keyed(good(str(store_id)))),
        ("field_wrong_type", *keyed(good(store_id + 0.5))),
        ("field_wrong_type", *keyed(good(True))),
        ("field_wrong_type", *keyed(good(store_id, consulting=["a", "list"]))),
        ("field_wrong_type", *keyed(good(store_id, req_id="not-a-uuid"))),
        ("field_wrong_type", *keyed(good(store_id, created_at="yesterday"))),
        ("field_out_of_range", *keyed(good(2**31))),
        ("field_out_of_range", *keyed(good(10**30))),
        ("field_out_of_range", *keyed(good(0))),
        ("field_out_of_range", *keyed(good(-7))),
        ("field_too_long", *keyed(good(store_id, source="s" * 21))),
        ("field_too_long", *keyed(good(store_id, consulting="가" * 100_001))),
        ("field_out_of_range", *keyed(good(store_id, source=""))),
        ("field_bad_text", *keyed(good(store_id, consulting="NUL \u0000 inside"))),
        # A lone surrogate: Python's json reads it, PostgreSQL cannot store it, the contract's strict parser refuses it.
        ("value_not_json", *raw_keyed(whole.replace("STORE", str(store_id)).replace("TEXT", '"\\ud800"'))),
    ]


def raw_producer(broker):
    """A plain kafka-python producer: bytes in, bytes on the topic, nothing checked."""
    return KafkaProducer(bootstrap_servers=broker.bootstrap_servers.split(","), max_request_size=4 * 1024 * 1024)


def send_raw(broker, records):
    producer = raw_producer(broker)
    try:
        return [producer.send(CONSULTING_TOPIC, key=key, value=value).get(timeout=10).offset for key, value in records]
    finally:
        producer.close()


def dead_letters(sessions):
    with sessions() as session:
        return session.scalars(select(DeadLetter).order_by(DeadLetter.offset)).all()


def scraped_dead_letters(client):
    families = text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
    return {sample.labels["reason"]: sample.value for family in families
            if family.name == "salesync_consumer_dead_letters" for sample in family.samples}


def test_every_kind_of_poison_is_dead_lettered_and_the_good_record_after_them_is_stored(
        client, new_store, own_kafka_broker, running_feed, sessions):
    store_id, headers = new_store()
    kinds = poison_kinds(store_id)
    offsets = send_raw(own_kafka_broker, [(key, value) for _, key, value in kinds])
    after = good(store_id)
    [last] = send_raw(own_kafka_broker, [(after["req_id"].encode(), as_json(after))])
    assert offsets == list(range(len(kinds))) and last == len(kinds)

    running_feed(own_kafka_broker)

    assert wait_for(lambda: stored(sessions, [after["req_id"]]), timeout=30), "the good record never arrived"
    body = client.get(f"/dashboard/consulting/{after['req_id']}", headers=headers).get_json()
    assert body["consulting"] == "세트 메뉴를 홍보하세요."

    letters = dead_letters(sessions)
    assert [(letter.offset, letter.reason) for letter in letters] == \
        [(offset, reason) for offset, (reason, _, _) in zip(offsets, kinds, strict=True)]
    for letter, (_, key, value) in zip(letters, kinds, strict=True):
        assert (letter.topic, letter.partition) == (CONSULTING_TOPIC, 0)
        assert letter.key == key and letter.key_size == (None if key is None else len(key))
        assert letter.value_size == (None if value is None else len(value))
        assert letter.value == (None if value is None else value[:16 * 1024])  # bounded
        assert letter.detail and letter.dead_lettered_at is not None
    assert max(len(letter.value or b"") for letter in letters) == 16 * 1024
    with sessions() as session:
        assert session.get(ConsumerPosition, (CONSULTING_TOPIC, 0)).next_offset == last + 1
        assert session.scalar(select(ConsultingResult.req_id).where(ConsultingResult.store_id == store_id)) \
            == uuid.UUID(after["req_id"])  # none of the poison was stored as a result

    expected = {}
    for reason, _, _ in kinds:
        expected[reason] = expected.get(reason, 0) + 1
    assert scraped_dead_letters(client) == expected


def test_neither_an_idle_nor_a_restarted_consumer_dead_letters_a_record_twice(own_kafka_broker, running_feed, sessions,
                                                               new_store):
    store_id, _ = new_store()
    # The last one's key does not fit the position's last_key (100 characters, no NUL): a digest of it does.
    send_raw(own_kafka_broker, [(b"\xff", b"{}"), (b"\x00" + b"k" * 300, b"NaN")])
    feed = running_feed(own_kafka_broker)
    assert wait_for(lambda: len(dead_letters(sessions)) == 2)
    time.sleep(3 * consulting_feed.IDLE_CHECK_SECONDS)  # idle checks re-read the last record: not a new letter
    assert len(dead_letters(sessions)) == 2
    running_feed.stop(feed)

    after = good(store_id)
    send_raw(own_kafka_broker, [(after["req_id"].encode(), as_json(after))])
    running_feed(own_kafka_broker)

    assert wait_for(lambda: stored(sessions, [after["req_id"]]))
    assert [letter.reason for letter in dead_letters(sessions)] == ["key_not_utf8", "value_not_finite"]
    with sessions() as session:
        assert session.get(ConsumerPosition, (CONSULTING_TOPIC, 0)).next_offset == 3


def test_a_row_the_database_refuses_is_dead_lettered_and_the_rest_of_the_batch_is_stored(sessions, new_store,
                                                                                          monkeypatch):
    store_id, _ = new_store()
    refused, overflowing, kept = good(store_id), good(store_id), good(store_id)
    records = [Record(0, n, document["req_id"].encode(), as_json(document))
               for n, document in enumerate([refused, overflowing, kept])]
    read = consulting_feed.read_record

    def read_past_the_contract(record):
        message = read(record)
        if str(message.req_id) == overflowing["req_id"]:  # as if the contract allowed more than the column holds
            return ConsultingResultMessage.model_construct(**{**message.__dict__, "store_id": 2**40})
        return message

    monkeypatch.setattr(consulting_feed, "read_record", read_past_the_contract)
    with sessions() as session:
        session.execute(text("ALTER TABLE dashboard.consulting_results ADD CONSTRAINT test_refused "
                             f"CHECK (req_id <> '{refused['req_id']}')"))
        session.commit()
    try:
        with sessions() as session:
            applied = apply_records(session=session, records=records)
    finally:
        with sessions() as session:
            session.execute(text("ALTER TABLE dashboard.consulting_results DROP CONSTRAINT test_refused"))
            session.commit()

    assert (applied.new, applied.dead_letters) == (1, 2)
    assert stored(sessions, [r["req_id"] for r in (refused, overflowing, kept)]) == {kept["req_id"]}
    letters = dead_letters(sessions)
    assert [(letter.offset, letter.reason) for letter in letters] == [(0, "database_refused"),
                                                                    (1, "database_refused")]
    assert "CheckViolation" in letters[0].detail and "NumericValueOutOfRange" in letters[1].detail
    with sessions() as session:
        assert session.get(ConsumerPosition, (CONSULTING_TOPIC, 0)).next_offset == 3


def test_a_database_that_cannot_take_the_record_is_retried_and_liveness_tells(own_kafka_broker, sessions,
                                                                                new_store, database_url, tmp_path):
    """Not about the record (the table is away, as in an outage or a broken deploy): nothing is dead-lettered,
    the record is tried again until it is stored, and meanwhile the liveness file goes stale."""
    store_id, _ = new_store()
    alive = tmp_path / "alive"
    feed = ConsultingFeed(session_factory=sessions, bootstrap_servers=own_kafka_broker.bootstrap_servers,
                          liveness=Liveness(alive))
    thread = threading.Thread(target=feed.run, daemon=True)
    thread.start()
    connection = psycopg2.connect(libpq_url(database_url))
    connection.autocommit = True
    try:
        assert wait_for(lambda: is_fresh(alive, 2), timeout=20)
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE dashboard.consulting_results RENAME TO consulting_results_away")
        waiting = good(store_id)
        send_raw(own_kafka_broker, [(waiting["req_id"].encode(), as_json(waiting))])
        time.sleep(4.0)
        assert not is_fresh(alive, 2), "liveness stayed green while every pass failed"
        assert dead_letters(sessions) == []
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE dashboard.consulting_results_away RENAME TO consulting_results")
        assert wait_for(lambda: stored(sessions, [waiting["req_id"]]), timeout=30)
        assert wait_for(lambda: is_fresh(alive, 2), timeout=10)
        assert dead_letters(sessions) == []
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE IF EXISTS dashboard.consulting_results_away RENAME TO consulting_results")
        connection.close()
        feed.stop()
        thread.join(timeout=15)


@pytest.mark.parametrize("raw,expected", [("", 16384), ("0", 0), ("100", 100)])
def test_the_dead_letter_size_limit_is_a_setting(raw, expected):
    assert dead_letter_limit({"DASHBOARD_DEAD_LETTER_MAX_BYTES": raw}) == expected


def test_what_the_consulting_service_publishes_is_read_back_unchanged():
    """The publisher serialises with the contract model; the consumer reads the bytes back with it, strictly."""
    published = ConsultingResultMessage(req_id=uuid.uuid4(), store_id=2**31 - 1, source="s" * 20,
                                        consulting="세트\n메뉴 \"홍보\" \\ 🍕",
                                        created_at=datetime.datetime.now(datetime.UTC))
    payload = published.model_dump(mode="json")
    assert payload["created_at"] == published.created_at.isoformat()  # "+00:00", as the topic always carried
    record = Record(0, 0, payload["req_id"].encode(), json.dumps(payload).encode())
    assert consulting_feed.read_record(record) == published
