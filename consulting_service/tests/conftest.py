import datetime
import time
import zoneinfo

import pytest
from kafka import TopicPartition
from sqlalchemy.orm import sessionmaker

from consulting_service.app.advice import ModelSettings
from consulting_service.app.models import db
from consulting_service.worker import Worker
from salesync_common.kafka_client import CONSULTING_TOPIC, new_consumer
from salesync_common.service_client import ServiceClient
from testsupport.fixtures import service_fixtures
from testsupport.served import local_service_urls
from testsupport.settings import TEST_JWT_SECRET, settings_for_tests
from testsupport.shop import Http, Shop

from .fake_openai import FakeOpenAI

LEASE = datetime.timedelta(seconds=60)
# name: (price, cost or None). Chosen so that one item earns well, one barely, one loses and one has no cost.
MENU = {"제육볶음": (11000, 4000), "김치찌개": (9000, 8500), "공기밥": (1000, 1200), "계란말이": (7000, None)}


# Cleaned before each test too: the session's database is shared, and earlier suites (sweeps, bff) leave
# pending jobs that would be claimed first, being older.
urls, app, client, clean_tables = service_fixtures("consulting", clean_before=True)


@pytest.fixture(scope="session")
def sessions(app):
    with app.app_context():
        return sessionmaker(db.engine, expire_on_commit=False)


@pytest.fixture(scope="session")
def store_data_client(database_url, order_service, sale_service, item_service):
    """The client the worker reads the real order, sale and item services with."""
    urls = local_service_urls(order=order_service, sale=sale_service, item=item_service)
    return ServiceClient(settings_for_tests("consulting", database_url, service_urls=urls))


@pytest.fixture
def fake_openai():
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
def model(fake_openai):
    return ModelSettings(api_key="sk-test-key", base_url=fake_openai.base_url, model="gpt-4o-mini", timeout=5,
                         max_retries=2)


@pytest.fixture
def work_one_job(sessions, store_data_client):
    """One step of the worker's job loop: claim the next job and work it out against the real services."""
    def _work(model=None, client=None):
        worker = Worker(session_factory=sessions, client=client or store_data_client, jwt_secret=TEST_JWT_SECRET,
                        model=model, publisher=None, lease=LEASE)  # the job loop never publishes: the relay does
        try:
            job = worker.work_one_job()
        finally:
            if worker.model_client is not None:
                worker.model_client.close()
        assert job is not None, "there was no job to work on"
        return job.req_id
    return _work


@pytest.fixture(scope="session")
def shop(new_store, store_service, item_service, order_service, sale_service):
    """A store with a menu, costs and two paid tables, made through the real item, order and sale services."""
    urls = local_service_urls(store=store_service, item=item_service, order=order_service, sale=sale_service)
    store_id, headers = new_store()
    shop = Shop(Http(urls), store_id=store_id, headers=headers)
    shop.today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date().isoformat()
    shop.build_menu({"식사": {name: price for name, (price, _) in MENU.items()}})
    shop.set_costs(**{name: cost for name, (_, cost) in MENU.items() if cost is not None})
    shop.sell(table_no=1, 제육볶음=3, 김치찌개=2)
    shop.sell(table_no=2, 공기밥=4, 계란말이=1, 제육볶음=1)
    return shop


def read_topic(bootstrap_servers, *, timeout=10.0):
    """Every record of the consulting topic, from the beginning (a plain consumer on partition 0)."""
    consumer = new_consumer(bootstrap_servers)
    partition = TopicPartition(CONSULTING_TOPIC, 0)
    try:
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        end = consumer.end_offsets([partition])[partition]
        records = []
        deadline = time.monotonic() + timeout
        while consumer.position(partition) < end and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def records_with_key(bootstrap_servers, key):
    return [record for record in read_topic(bootstrap_servers) if record.key == key.encode()]
