"""The gauges the alerts read (k8s/monitoring/prometheusrule.yaml): the settlement SMS used today against
the daily limit (SalesyncSmsDailyCap), how far the consumer is behind the topic (SalesyncConsumerLag), and
the dead letters of the last hour (SalesyncDeadLetters)."""
import datetime
import socket
import threading

from kafka import KafkaProducer

from dashboard_service.app import create_app
from dashboard_service.app.consulting_feed import FIELD_MISSING, VALUE_NOT_JSON, Poison, Record, dead_letter
from dashboard_service.app.models import ConsumerPosition, DeadLetter, Settlement, db
from salesync_common.kafka_client import CONSULTING_TOPIC
from salesync_common.purge import purge_service
from testsupport.scrape import by_label, samples
from testsupport.settings import migrated_settings


def add_settlement(*, store_id: int, created_at: datetime.datetime):
    db.session.add(Settlement(store_id=store_id, business_date=created_at.date(), figures={}, text="정산",
                              channel="recorded", status="recorded", created_at=created_at))


def test_sms_today_counts_this_utc_days_settlements_against_the_daily_limit(app, client):
    now = datetime.datetime.now(datetime.UTC)
    midnight = datetime.datetime.combine(now.date(), datetime.time.min, tzinfo=datetime.UTC)
    times = [now, max(midnight, now - datetime.timedelta(minutes=5)), midnight - datetime.timedelta(hours=1)]
    with app.app_context():
        for store_id, created_at in enumerate(times, start=1):
            add_settlement(store_id=store_id, created_at=created_at)
        db.session.commit()
    assert by_label(client, "salesync_sms_today", "figure") == {
        "sent": 2, "limit": app.extensions["sms_limits"].daily_limit}


def test_dead_letters_of_the_last_hour_count_new_letters_even_when_the_purge_removes_old_ones(app, client):
    """The kept count falls when the hourly purge removes 30-day-old letters, which could hide a new one from
    a comparison with an hour ago; the last hour's figure is not moved by the purge."""
    now = datetime.datetime.now(datetime.UTC)
    long_ago, over_an_hour_ago = now - datetime.timedelta(days=31), now - datetime.timedelta(minutes=70)
    with app.app_context():
        for offset, when in enumerate([long_ago, long_ago, over_an_hour_ago]):
            db.session.add(DeadLetter(topic=CONSULTING_TOPIC, partition=0, offset=offset, key=None, value=b"x",
                                      value_size=1, reason=VALUE_NOT_JSON, detail="old", dead_lettered_at=when))
        db.session.commit()
    assert samples(client, "salesync_consumer_dead_letters_last_hour") == {}
    assert by_label(client, "salesync_consumer_dead_letters", "reason") == {VALUE_NOT_JSON: 3}

    with app.app_context():
        dead_letter(session=db.session, topic=CONSULTING_TOPIC, record=Record(partition=0, offset=3, key=b"r",
                    value=b"{}"), poison=Poison(FIELD_MISSING, "req_id"), max_bytes=100)
        db.session.commit()
    assert purge_service("dashboard", app.extensions["salesync_settings"]) == {"dashboard.dead_letters": 2}
    # Kept: 4 written, 2 purged, so fewer than an hour ago; yet one was written in the last hour.
    assert by_label(client, "salesync_consumer_dead_letters", "reason") == {VALUE_NOT_JSON: 1, FIELD_MISSING: 1}
    assert samples(client, "salesync_consumer_dead_letters_last_hour") == {
        (("reason", FIELD_MISSING), ("topic", CONSULTING_TOPIC)): 1}


def test_consumer_lag_is_the_end_of_the_log_minus_the_stored_position(database_url, own_kafka_broker):
    lagging = create_app(migrated_settings("dashboard", database_url,
                                           kafka_bootstrap_servers=own_kafka_broker.bootstrap_servers))
    producer = KafkaProducer(bootstrap_servers=own_kafka_broker.bootstrap_servers.split(","))
    try:
        for n in range(5):
            producer.send(CONSULTING_TOPIC, key=b"k", value=b"%d" % n, partition=0).get(timeout=10)
    finally:
        producer.close()
    client = lagging.test_client()
    assert samples(client, "salesync_consumer_lag") == {(("partition", "0"), ("topic", CONSULTING_TOPIC)): 5}
    with lagging.app_context():
        db.session.add(ConsumerPosition(topic=CONSULTING_TOPIC, partition=0, next_offset=3))
        db.session.commit()
    try:
        assert by_label(client, "salesync_consumer_lag", "partition") == {"0": 2}
    finally:
        lagging.extensions["consumer_log_ends"].close()  # before the test's broker goes away
        with lagging.app_context():
            db.session.query(ConsumerPosition).delete()
            db.session.commit()


def test_the_scrape_answers_without_the_lag_when_kafka_is_away(database_url):
    """No broker at the address (port 1 refuses): the other figures are still scraped."""
    away = create_app(migrated_settings("dashboard", database_url, kafka_bootstrap_servers="127.0.0.1:1"))
    client = away.test_client()
    assert samples(client, "salesync_consumer_lag") == {}
    assert by_label(client, "salesync_sms_today", "figure")["limit"] == away.extensions["sms_limits"].daily_limit


class SilentBroker:
    """A TCP port that accepts connections and never answers (a hung or blackholed Kafka); counts them."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.accepted = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.socket.getsockname()[1]}"

    def _accept(self):
        while True:
            try:
                self.accepted.append(self.socket.accept()[0])
            except OSError:
                return

    def close(self):
        self.socket.close()
        for connection in self.accepted:
            connection.close()


def test_after_kafka_fails_to_answer_the_next_scrapes_do_not_wait_for_it_again(database_url):
    """A hung Kafka costs one scrape its bootstrap timeout; the scrapes within the retry pause skip the lag
    at once (they would each wait seconds, queued one behind another, past Prometheus' scrape timeout)."""
    broker = SilentBroker()
    try:
        hung = create_app(migrated_settings("dashboard", database_url, kafka_bootstrap_servers=broker.bootstrap_servers,
                                            consumer_lag_retry_seconds=600))
        client = hung.test_client()
        assert samples(client, "salesync_consumer_lag") == {}
        asked = len(broker.accepted)
        assert asked >= 1
        for _ in range(3):
            assert samples(client, "salesync_consumer_lag") == {}
            assert set(by_label(client, "salesync_sms_today", "figure")) == {"sent", "limit"}  # the rest still comes
        assert len(broker.accepted) == asked
    finally:
        broker.close()


def test_kafka_is_asked_again_once_the_retry_pause_is_over(database_url):
    broker = SilentBroker()
    try:
        hung = create_app(migrated_settings("dashboard", database_url, kafka_bootstrap_servers=broker.bootstrap_servers,
                                            consumer_lag_retry_seconds=0))
        client = hung.test_client()
        samples(client, "salesync_consumer_lag")
        asked = len(broker.accepted)
        samples(client, "salesync_consumer_lag")
        assert len(broker.accepted) > asked
    finally:
        broker.close()
