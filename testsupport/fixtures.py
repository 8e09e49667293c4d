"""pytest fixtures every service's tests share (loaded by the top-level conftest.py), and the factory
of each service's own `urls`, `app`, `client` and `clean_tables` fixtures.

Tests run against a real PostgreSQL: SALESYNC_TEST_DATABASE_URL when set, otherwise a
throwaway embedded server. Either way the session gets a fresh database of its own.
"""
from __future__ import annotations

import importlib
import itertools
import os
import pathlib
import shutil
import tempfile
import uuid

import pytest
from sqlalchemy import text

from salesync_common import roster

from .clients import CheckedClient
from .kafka_broker import LocalBroker
from .postgres import drop_database, ensure_database, start_embedded
from .served import local_service_urls, serve_service
from .settings import migrated_settings
from .shop import Http, Shop


@pytest.fixture(scope="session")
def database_url():
    server_url = os.environ.get("SALESYNC_TEST_DATABASE_URL")
    server = None
    if not server_url:
        # Not under pytest's basetemp: another pytest session on this machine prunes old basetemps
        # (it keeps three), and took this server's data and socket away in the middle of a run.
        folder = pathlib.Path(tempfile.mkdtemp(prefix="salesync-test-pg-"))
        server, server_url = start_embedded(folder / "data", delete_on_exit=True)
    name = f"salesync_test_{uuid.uuid4().hex[:8]}"
    url = ensure_database(server_url, name)
    yield url
    drop_database(server_url, name)
    if server is not None:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def _served(service: str, *calls: str):
    """A session fixture: the real `service` over HTTP (migrated), calling the served `calls`."""

    @pytest.fixture(scope="session")
    def served(request, database_url):
        app = serve_service(service, database_url,
                            **{name: request.getfixturevalue(f"{name}_service") for name in calls})
        yield app
        app.shutdown()

    return served


# The real services over HTTP, for tests of services that call them.
store_service = _served("store")
item_service = _served("item", "store")
order_service = _served("order", "store", "item")
sale_service = _served("sale", "store", "item", "order")
dashboard_service = _served("dashboard", "store", "item", "order", "sale")
consulting_service = _served("consulting", "store", "item", "order", "sale")  # its worker reads the last three


def truncate_all(db) -> None:
    """Empty every table of one service (each test starts from a clean state).

    Ids keep counting: other services may still hold references to earlier rows.
    """
    tables = ", ".join(f'"{t.schema}"."{t.name}"' for t in db.metadata.sorted_tables)
    if tables:
        db.session.execute(text(f"TRUNCATE {tables} CASCADE"))
        db.session.commit()


def service_fixtures(service: str, *, calls: tuple[str, ...] = (), clean_before: bool = False, **create_app_kwargs):
    """The fixtures of one service's tests, for its conftest.py to bind:

        urls, app, client, clean_tables = service_fixtures("order", calls=("store", "item"))

    urls: the addresses the service calls (the real `calls` services, served over HTTP);
    app: the service's app on the migrated test database, with CheckedClient as its test client;
    client: a test client of it; clean_tables (autouse): its tables emptied after each test,
    and before it too with clean_before (for tables other suites of the session leave rows in).
    """
    package = importlib.import_module(f"{roster.BY_NAME[service].package}.app")

    @pytest.fixture(scope="session")
    def urls(request):
        return local_service_urls(**{name: request.getfixturevalue(f"{name}_service") for name in calls})

    @pytest.fixture(scope="session")
    def app(database_url, urls):
        app = package.create_app(migrated_settings(service, database_url, service_urls=urls), **create_app_kwargs)
        app.test_client_class = CheckedClient
        return app

    @pytest.fixture(autouse=True)
    def clean_tables(app):
        db = app.extensions["sqlalchemy"]
        if clean_before:
            with app.app_context():
                truncate_all(db)
        yield
        with app.app_context():
            truncate_all(db)

    @pytest.fixture
    def client(app):
        return app.test_client()

    return urls, app, client, clean_tables


@pytest.fixture(scope="session")
def kafka_broker():
    """A real Kafka-protocol broker (Tansu) on a free loopback port, with the consulting topic."""
    broker = LocalBroker().start()
    yield broker
    broker.stop()


@pytest.fixture
def own_kafka_broker():
    """A broker for one test, which it may stop and restart at will."""
    broker = LocalBroker().start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def new_store(store_service):
    """Sign a new store up through the real store service; returns (store_id, Authorization headers)."""
    counter = itertools.count(1)

    def _new_store(time_zone: str = "Asia/Seoul", **changes):
        n = next(counter)
        form = {"username": f"owner{uuid.uuid4().hex[:6]}{n}", "store_name": f"테스트가게{n}", "time_zone": time_zone,
                **changes}
        shop = Shop(Http({"store": store_service.url})).sign_up(**form)
        return shop.store_id, shop.headers

    return _new_store
