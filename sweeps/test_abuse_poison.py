"""Abuse sweep, issue 13 point 6: poison on the topic `consulting` stalls no store's consulting.

The running system: the sweeps' services with the BFF in front, the session's Kafka broker, the dashboard
consumer as its own process (`python -m dashboard_service.consumer`, as `make run` starts it) and the
consulting worker's loops in a thread. Every kind of record the dashboard cannot store is produced with a
raw kafka-python producer; then a store asks for consulting through the BFF, as the POS does, and its
result still arrives: the job says success, and the dashboard shows its text. Each poison record is in
dashboard.dead_letters at its offset with its reason, the dashboard's metric counts them, the consumer's
position is past them, and the consumer process is alive with a fresh liveness file.
"""
from __future__ import annotations

import collections
import datetime
import json
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from consulting_service.app import outbox
from consulting_service.app.models import db as consulting_db
from consulting_service.worker import Worker
from dashboard_service.app.models import ConsumerPosition, DeadLetter
from dashboard_service.app.models import db as dashboard_db
from salesync_common.kafka_client import CONSULTING_TOPIC
from salesync_common.liveness import is_fresh
from salesync_common.migrate import REPO_ROOT
from testsupport import shop as scenario
from testsupport.settings import TEST_JWT_SECRET

from .support import PASSWORD, REQUESTS, TODAY, Browser

TALLY = "abuse: poison on the consulting topic"
NOW = datetime.datetime.now(datetime.UTC).isoformat()
ARRIVES_WITHIN_SECONDS = 60.0


def poison(store_id: int) -> list[tuple[str, bytes | None, bytes | None]]:
    """(reason, key, value): one record of each kind the dashboard cannot store, aimed at a real store."""
    def result(**changes):
        req_id = str(uuid.uuid4())
        document = {"req_id": req_id, "store_id": store_id, "source": "rule_based", "consulting": "가짜 조언",
                    "created_at": NOW, **changes}
        return req_id.encode(), json.dumps(document).encode()

    def by_hand(store_id_literal: str):
        req_id = str(uuid.uuid4())
        return req_id.encode(), (f'{{"req_id": "{req_id}", "store_id": {store_id_literal}, "source": "rule_based", '
                                 f'"consulting": "x", "created_at": "{NOW}"}}').encode()

    key = str(uuid.uuid4()).encode()
    return [
        ("key_not_utf8", b"\xff\xfe\x00", result()[1]),  # the key that killed the consumer (UnicodeDecodeError)
        ("key_not_req_id", b"someone-elses-key", result()[1]),
        ("value_missing", key, None),
        ("value_not_utf8", key, b'{"req_id": "\xff"}'),
        ("value_not_json", key, b"{not json"),
        ("value_not_json", key, b"[" * 50_000 + b"]" * 50_000),
        ("value_not_object", key, b"42"),
        ("value_not_finite", *by_hand("Infinity")),  # crashed it on the same offset forever
        ("value_not_finite", *by_hand("NaN")),
        ("field_missing", key, json.dumps({"req_id": key.decode(), "store_id": store_id}).encode()),
        ("field_wrong_type", *result(store_id=str(store_id))),
        ("field_out_of_range", *result(store_id=2**31)),  # too large for the column: retried forever before
        ("field_out_of_range", *result(store_id=0)),
        ("field_too_long", *result(source="x" * 21)),
        ("field_bad_text", *result(consulting="\u0000")),
    ]


@pytest.fixture(scope="module")
def broker_producer(kafka_broker):
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers.split(","))
    yield producer
    producer.close()


@pytest.fixture(scope="module")
def consumer_process(database_url, kafka_broker, dashboard_service, tmp_path_factory):
    """The dashboard consumer as make run starts it (the dashboard's tables are migrated by its service)."""
    alive = tmp_path_factory.mktemp("poison") / "consumer.alive"
    env = {**os.environ, "DATABASE_URL": database_url, "SALESYNC_JWT_SECRET": TEST_JWT_SECRET,
           "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers, "SALESYNC_LOG_LEVEL": "ERROR",
           "SALESYNC_LIVENESS_FILE": str(alive), "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "dashboard_service.consumer"], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield process, alive
    process.terminate()
    process.wait(timeout=15)


@pytest.fixture(scope="module")
def consulting_worker(consulting_service, kafka_broker):
    """The consulting worker's job and relay loops, in a thread, publishing to the session's broker."""
    app = consulting_service.server.app
    with app.app_context():
        sessions = sessionmaker(consulting_db.engine, expire_on_commit=False)
    worker = Worker(session_factory=sessions, client=app.extensions["salesync_client"], jwt_secret=TEST_JWT_SECRET,
                    model=None, publisher=outbox.Publisher(kafka_broker.bootstrap_servers),
                    lease=datetime.timedelta(seconds=60))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    yield worker
    worker.stop()
    thread.join(timeout=30)


def dead_letter_metric(dashboard_url: str) -> collections.Counter:
    """salesync_consumer_dead_letters by reason, from the dashboard service's own /metrics (internal)."""
    text = requests.get(f"{dashboard_url}/metrics", timeout=10).text
    return collections.Counter({sample.labels["reason"]: int(sample.value)
                                for family in text_string_to_metric_families(text)
                                if family.name == "salesync_consumer_dead_letters" for sample in family.samples
                                if sample.labels["topic"] == CONSULTING_TOPIC})


def eventually(read, done, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def test_poison_on_the_topic_stalls_no_stores_consulting(bff_served, dashboard_service, dashboard_app,
                                                          broker_producer, consumer_process, consulting_worker):
    process, alive = consumer_process
    browser = Browser(bff_served.url, tally=TALLY)
    owner = scenario.Shop(browser.send).sign_up(username=f"poison{uuid.uuid4().hex[:10]}", password=PASSWORD,
                                                store_name="독성테스트가게")
    browser.token = owner.token
    metric_before = dead_letter_metric(dashboard_service.url)

    kinds = poison(owner.store_id)
    sent = [broker_producer.send(CONSULTING_TOPIC, key=key, value=value).get(timeout=10) for _, key, value in kinds]
    assert len({meta.partition for meta in sent}) == 1
    partition, offsets = sent[0].partition, [meta.offset for meta in sent]

    req_id = browser.call("GET", f"/consulting/?start={TODAY}&end={TODAY}")["req_id"]
    # The BFF says success only once the dashboard can show the text: with the consumer stalled or dead (as the
    # first of these records left it before), this stays "not completed" for every store.
    status = eventually(lambda: browser.call("GET", f"/consulting/{req_id}"),
                        lambda body: body["result"] != "not completed", ARRIVES_WITHIN_SECONDS)
    assert status["result"] == "success", status
    shown = eventually(lambda: browser.request("GET", f"/dashboard/consulting/{req_id}"),
                       lambda response: response.status_code == 200, ARRIVES_WITHIN_SECONDS)
    assert shown.status_code == 200, f"the result never reached the dashboard: {shown.status_code} {shown.text}"
    assert shown.json()["result"] == "success" and shown.json()["consulting"]

    with dashboard_app.app_context():
        letters = dashboard_db.session.execute(select(DeadLetter.offset, DeadLetter.reason, DeadLetter.key).where(
            DeadLetter.topic == CONSULTING_TOPIC, DeadLetter.partition == partition,
            DeadLetter.offset.in_(offsets)).order_by(DeadLetter.offset)).all()
        next_offset = dashboard_db.session.scalar(select(ConsumerPosition.next_offset).where(
            ConsumerPosition.topic == CONSULTING_TOPIC, ConsumerPosition.partition == partition))
        dashboard_db.session.rollback()
    assert [(offset, reason, key) for offset, reason, key in letters] == \
        [(offset, reason, key) for offset, (reason, key, _) in zip(offsets, kinds, strict=True)]
    assert next_offset > max(offsets)

    counted = dead_letter_metric(dashboard_service.url) - metric_before
    assert counted == collections.Counter(reason for reason, _, _ in kinds)

    assert process.poll() is None, "the consumer process died"
    assert is_fresh(alive, 10), "the consumer's liveness file is stale"
    print(f"\n{len(kinds)} poison records dead-lettered ({dict(counted)}); the consulting result still arrived; "
          f"{REQUESTS[TALLY]} requests to the BFF")
