"""Consulting jobs through the BFF (API.md §7, Decision 6): start one, then poll its state."""
import datetime
import threading
import time
import zoneinfo

import pytest
from sqlalchemy.orm import sessionmaker

from consulting_service.app import create_app as create_consulting
from consulting_service.app import outbox
from consulting_service.app.models import db as consulting_db
from consulting_service.worker import Worker
from dashboard_service.app import create_app as create_dashboard
from dashboard_service.app.consulting_feed import ConsultingFeed
from dashboard_service.app.models import db as dashboard_db
from salesync_common.service_client import ServiceClient
from testsupport.settings import TEST_JWT_SECRET, migrated_settings, settings_for_tests

from .conftest import Pos

TODAY = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()


@pytest.mark.parametrize("start_path, state_path", [("/consulting/", "/consulting/"),
                                                    ("/consulting/test", "/consulting/test/")])
def test_a_consulting_job_starts_and_its_state_can_be_polled(consulting_app, start_path, state_path):
    terminal = Pos(consulting_app.test_client())
    start = TODAY - datetime.timedelta(days=6)
    job = terminal.call("GET", f"{start_path}?start={start}&end={TODAY}")
    assert job["req_id"]
    state = terminal.call("GET", f"{state_path}{job['req_id']}")
    assert state["result"] in ("not completed", "success", "failed")


def test_another_store_cannot_poll_my_consulting(consulting_app):
    mine, theirs = Pos(consulting_app.test_client()), Pos(consulting_app.test_client())
    job = mine.call("GET", f"/consulting/test?start={TODAY}&end={TODAY}")
    assert theirs.request("GET", f"/consulting/test/{job['req_id']}").status_code == 404


@pytest.fixture
def consulting_pipeline(database_url, kafka_broker, backends):
    """The consulting worker's job loop and outbox relay, and the dashboard's feed from Kafka, in this process:
    work() works every queued job out, publishes the results and lets the dashboard store them."""
    engines = {}
    for name, create, db in (("consulting", create_consulting, consulting_db),
                             ("dashboard", create_dashboard, dashboard_db)):
        with create(migrated_settings(name, database_url)).app_context():
            engines[name] = db.engine
    consulting_sessions = sessionmaker(engines["consulting"], expire_on_commit=False)
    publisher = outbox.Publisher(kafka_broker.bootstrap_servers)
    worker = Worker(session_factory=consulting_sessions, jwt_secret=TEST_JWT_SECRET, model=None, publisher=publisher,
                    client=ServiceClient(settings_for_tests("consulting", database_url, service_urls=backends)),
                    lease=datetime.timedelta(seconds=60))
    feed = ConsultingFeed(session_factory=sessionmaker(engines["dashboard"]),
                          bootstrap_servers=kafka_broker.bootstrap_servers)
    thread = threading.Thread(target=feed.run, daemon=True)
    thread.start()

    def work():
        while worker.work_one_job() is not None:
            pass
        with consulting_sessions() as session:
            outbox.relay_pending(session=session, publisher=publisher)

    yield work
    feed.stopping.set()
    thread.join(timeout=10)
    publisher.close()


def test_a_day_of_one_item_per_class_gets_advice_naming_each_with_its_class(consulting_app, consulting_pipeline):
    """No model key: the rule-based advice for a day on which four items sold, one of each menu class."""
    owner = Pos(consulting_app.test_client())
    owner.menu({"식사": {"제육볶음": 11000, "김치찌개": 9000, "수육": 28000, "계란찜": 5000}})
    # Unit margins 7,000 / 1,000 / 15,000 / 500 won; 6, 6, 1 and 1 sold: the first two popular.
    owner.set_costs(제육볶음=4000, 김치찌개=8000, 수육=13000, 계란찜=4500)
    owner.sell(table_no=1, 제육볶음=3, 김치찌개=3)
    owner.sell(table_no=2, 제육볶음=3, 김치찌개=3, 수육=1)
    owner.sell(table_no=3, payment_type="현금", 계란찜=1)
    revenue = owner.call("GET", f"/sales/daily?date={TODAY}")["sales_volume"]

    req_id = owner.call("GET", f"/consulting/test?start={TODAY}&end={TODAY}")["req_id"]
    consulting_pipeline()
    deadline = time.monotonic() + 20
    while owner.call("GET", f"/consulting/test/{req_id}")["result"] != "success" and time.monotonic() < deadline:
        time.sleep(0.1)
    advice = owner.call("GET", f"/dashboard/consulting/test/{req_id}")

    assert advice["source"] == "rule_based"
    lines = advice["consulting"].splitlines()
    for name, menu_class in [("제육볶음", "Star"), ("김치찌개", "Plowhorse"), ("수육", "Puzzle"), ("계란찜", "Dog")]:
        assert any(name in line and f"({menu_class})" in line for line in lines), (name, menu_class)
    assert revenue == 6 * 11000 + 6 * 9000 + 28000 + 5000
    assert f"매출 {revenue:,}원" in advice["consulting"]
