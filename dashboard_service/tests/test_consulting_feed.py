"""The dashboard's copy of consulting results, fed by a real Kafka-protocol broker."""
import datetime
import os
import signal
import subprocess
import sys
import time
import uuid

from sqlalchemy import func, select

from dashboard_service.app.models import ConsultingResult, ConsumerPosition
from salesync_common.kafka_client import CONSULTING_TOPIC, new_producer
from salesync_common.migrate import REPO_ROOT
from testsupport.settings import TEST_JWT_SECRET

from .conftest import stored, wait_for


def publish(broker, store_id, count=1, text="아메리카노 세트를 홍보하세요.", partition=None):
    producer = new_producer(broker.bootstrap_servers)
    req_ids = []
    for n in range(count):
        req_id = str(uuid.uuid4())
        payload = {"req_id": req_id, "store_id": store_id, "source": "rule_based", "consulting": f"{text} #{n}",
                   "created_at": datetime.datetime.now(datetime.UTC).isoformat()}
        producer.send(CONSULTING_TOPIC, key=req_id, value=payload, partition=partition).get(timeout=10)
        req_ids.append(req_id)
    producer.close()
    return req_ids


def test_a_published_result_is_readable_on_the_dashboard(client, new_store, own_kafka_broker, running_feed, sessions):
    store_id, headers = new_store()
    running_feed(own_kafka_broker)
    [req_id] = publish(own_kafka_broker, store_id, text="치즈케이크를 세트로 묶으세요.")

    started = time.monotonic()
    assert wait_for(lambda: stored(sessions, [req_id]))
    print(f"topic -> dashboard in {(time.monotonic() - started) * 1000:.0f} ms")

    body = client.get(f"/dashboard/consulting/test/{req_id}", headers=headers).get_json()
    assert body["result"] == "success"
    assert body["consulting"] == "치즈케이크를 세트로 묶으세요. #0"
    assert client.get(f"/dashboard/consulting/{req_id}", headers=headers).get_json() == body


def test_another_stores_result_and_unknown_ids_are_404(client, new_store, own_kafka_broker, running_feed, sessions):
    store_id, _ = new_store()
    _, other = new_store()
    running_feed(own_kafka_broker)
    [req_id] = publish(own_kafka_broker, store_id)
    assert wait_for(lambda: stored(sessions, [req_id]))

    assert client.get(f"/dashboard/consulting/{req_id}", headers=other).status_code == 404
    assert client.get(f"/dashboard/consulting/{uuid.uuid4()}", headers=other).status_code == 404
    assert client.get("/dashboard/consulting/not-a-uuid", headers=other).status_code == 404
    assert client.get(f"/dashboard/consulting/{req_id}").status_code == 401
    assert client.get(f"/dashboard/consulting/{req_id}", headers={"Authorization": "Bearer null"}).status_code == 401


def test_a_malformed_message_is_skipped_and_the_feed_goes_on(own_kafka_broker, running_feed, sessions, new_store):
    store_id, _ = new_store()
    producer = new_producer(own_kafka_broker.bootstrap_servers)
    producer.send(CONSULTING_TOPIC, key="junk", value={"no": "req_id"}).get(timeout=10)
    producer.close()
    [req_id] = publish(own_kafka_broker, store_id)

    running_feed(own_kafka_broker)

    assert wait_for(lambda: stored(sessions, [req_id]))


def consumer_process(broker, database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "SALESYNC_JWT_SECRET": TEST_JWT_SECRET,
           "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers, "SALESYNC_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-m", "dashboard_service.consumer"], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_killing_the_consumer_mid_stream_loses_and_duplicates_nothing(own_kafka_broker, database_url, sessions,
                                                                      new_store):
    store_id, _ = new_store()
    first = publish(own_kafka_broker, store_id, count=60)
    process = consumer_process(own_kafka_broker, database_url)
    try:
        assert wait_for(lambda: len(stored(sessions, first)) >= 10)
        process.send_signal(signal.SIGKILL)  # at whatever point it has reached
        process.wait(timeout=10)
        second = publish(own_kafka_broker, store_id, count=40)
        process = consumer_process(own_kafka_broker, database_url)
        assert wait_for(lambda: len(stored(sessions, first + second)) == 100, timeout=30)
    finally:
        process.kill()
        process.wait(timeout=10)

    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ConsultingResult)
                              .where(ConsultingResult.store_id == store_id)) == 100
        position = session.get(ConsumerPosition, (CONSULTING_TOPIC, 0))
        assert position.next_offset == 100


def test_a_broker_that_lost_its_log_is_read_again_from_the_start(own_kafka_broker, running_feed, sessions, new_store):
    store_id, _ = new_store()
    running_feed(own_kafka_broker)
    before = publish(own_kafka_broker, store_id, count=5)
    assert wait_for(lambda: len(stored(sessions, before)) == 5)

    own_kafka_broker.restart()  # memory-only: the log is gone, our position (5) is past its end
    after = publish(own_kafka_broker, store_id, count=2)

    assert wait_for(lambda: len(stored(sessions, after)) == 2, timeout=30)


def test_a_broker_whose_new_log_outgrew_our_position_is_read_again(own_kafka_broker, running_feed, sessions,
                                                                    new_store):
    store_id, _ = new_store()
    feed = running_feed(own_kafka_broker)
    before = publish(own_kafka_broker, store_id, count=3)
    assert wait_for(lambda: len(stored(sessions, before)) == 3)
    running_feed.stop(feed)

    own_kafka_broker.restart()
    after = publish(own_kafka_broker, store_id, count=6)  # offsets 0..5: our stored position 3 is inside it
    running_feed(own_kafka_broker)

    assert wait_for(lambda: len(stored(sessions, after)) == 6, timeout=30)


def test_a_topic_that_comes_back_with_more_partitions_is_read_in_all_of_them(own_kafka_broker, running_feed,
                                                                             sessions, new_store):
    store_id, _ = new_store()
    running_feed(own_kafka_broker)
    before = publish(own_kafka_broker, store_id, count=2)
    assert wait_for(lambda: len(stored(sessions, before)) == 2)

    # The broker loses its log and the topic is made again with two partitions (as an operator
    # adding partitions for more workers would); results land in both.
    own_kafka_broker.partitions = 2
    own_kafka_broker.restart()
    after = publish(own_kafka_broker, store_id, count=2, partition=0) + \
        publish(own_kafka_broker, store_id, count=3, partition=1)

    assert wait_for(lambda: len(stored(sessions, after)) == 5, timeout=30)
