import datetime
import threading
import time
import uuid
import zoneinfo

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from dashboard_service.app.consulting_feed import ConsultingFeed
from dashboard_service.app.models import ConsultingResult, Settlement, db
from testsupport.fixtures import service_fixtures
from testsupport.shop import Http, Shop

MENU = {"페퍼로니 피자": 18000, "포테이토 피자": 21000, "콜라": 2000}
SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")

urls, app, client, clean_tables = service_fixtures("dashboard", calls=("store", "item", "order", "sale"))


def today():
    return datetime.datetime.now(SEOUL).date()


def days_ago(n):
    return today() - datetime.timedelta(days=n)


def period(start, end):
    return f"start={start.isoformat()}&end={end.isoformat()}"


class Pizzeria(Shop):
    """A store with the MENU in one category, made through the real services over HTTP."""

    def call(self, method, service, path, body=None):
        """A call to one service by name (the path says which, and the name reads well in a test)."""
        return super().call(method, path, body)


@pytest.fixture
def shop(new_store, urls, database_url):
    """shop(**store fields) -> a new store with the MENU."""
    def _shop(**store):
        store_id, headers = new_store(**store)
        pizzeria = Pizzeria(Http(urls), store_id=store_id, headers=headers, database_url=database_url)
        pizzeria.build_menu({"피자": MENU})
        return pizzeria
    return _shop


# ---- the settlement SMS ----

AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                            "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN")


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch):
    """No AWS settings from the machine running the tests: region, endpoints and profiles are the test's own."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SNS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sns():
    """Amazon SNS (moto, with its fake credentials): sns(region) -> {message_id: (phone, text)} sent there."""
    with mock_aws():
        yield lambda region="ap-northeast-1": sns_backends[DEFAULT_ACCOUNT_ID][region].sms_messages


@pytest.fixture
def no_aws_credentials(monkeypatch, tmp_path):
    """boto3 finds no credentials anywhere; SNS is still mocked, to see that nothing is sent."""
    for name in AWS_CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with mock_aws(config={"core": {"mock_credentials": False}}):
        assert boto3.Session().get_credentials() is None
        yield lambda region="ap-northeast-1": sns_backends[DEFAULT_ACCOUNT_ID][region].sms_messages


def press(client, shop, day, resend=None):
    query = {"date": day.isoformat(), **({"resend": resend} if resend is not None else {})}
    return client.get("/dashboard/calculate", query_string=query, headers=shop.headers)


def recorded(app, shop):
    with app.app_context():
        rows = db.session.scalars(select(Settlement).where(Settlement.store_id == shop.store_id)
                                  .order_by(Settlement.settlement_id)).all()
        db.session.remove()
        return rows


# ---- the consulting feed ----

@pytest.fixture
def sessions(app):
    with app.app_context():
        return sessionmaker(db.engine, expire_on_commit=False)


class FeedRunner:
    """running_feed(broker) starts the feed in a thread; running_feed.stop(feed) stops it and waits for it."""

    def __init__(self, sessions):
        self.sessions = sessions
        self.threads: dict[ConsultingFeed, threading.Thread] = {}

    def __call__(self, broker):
        feed = ConsultingFeed(session_factory=self.sessions, bootstrap_servers=broker.bootstrap_servers)
        thread = threading.Thread(target=feed.run, daemon=True)
        thread.start()
        self.threads[feed] = thread
        return feed

    def stop(self, feed):
        # stop() only asks: a feed still inside poll() would read on into the next broker's log.
        feed.stop()
        self.threads[feed].join(timeout=10)
        assert not self.threads[feed].is_alive(), "the feed did not stop"


@pytest.fixture
def running_feed(sessions):
    """Start the feed in a thread against a broker; stops it at the end of the test."""
    runner = FeedRunner(sessions)
    yield runner
    for feed, thread in runner.threads.items():
        feed.stop()
        thread.join(timeout=10)


def stored(sessions, req_ids=None):
    with sessions() as session:
        query = select(ConsultingResult.req_id)
        if req_ids is not None:
            query = query.where(ConsultingResult.req_id.in_([uuid.UUID(r) for r in req_ids]))
        return {str(r) for r in session.scalars(query)}


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
