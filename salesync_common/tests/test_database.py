"""The connection pool survives connections that died while idle (a PostgreSQL restart, a
dropped connection): a connection idle longer than a moment is pinged before a request uses it."""
import psycopg2
import pytest

from salesync_common import database
from store_service.app import create_app
from testsupport.postgres import libpq_url
from testsupport.settings import migrated_settings


@pytest.fixture
def store_app(database_url):
    app = create_app(migrated_settings("store", database_url))
    yield app
    with app.app_context():
        app.extensions["salesync_db"].engine.dispose()


def kill_the_pools_connections(database_url):
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        # This test's own database only: another test run may share the server.
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                       "'salesync-store' AND datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.rowcount


def test_a_connection_that_died_while_idle_is_replaced_before_a_request_uses_it(
        store_app, database_url, monkeypatch):
    client = store_app.test_client()
    assert client.get("/readyz").status_code == 200
    assert kill_the_pools_connections(database_url) >= 1
    monkeypatch.setattr(database, "PING_IF_IDLE_SECONDS", 0.0)  # as if it sat idle a while

    assert client.get("/readyz").status_code == 200


def test_a_connection_in_use_a_moment_ago_is_not_pinged(store_app, database_url, monkeypatch):
    """The other side of the trade: without the ping the dead connection fails a request (and the pool
    is then renewed), which is why only recently used connections skip it."""
    client = store_app.test_client()
    assert client.get("/readyz").status_code == 200
    kill_the_pools_connections(database_url)
    monkeypatch.setattr(database, "PING_IF_IDLE_SECONDS", 3600.0)

    assert client.get("/readyz").status_code == 503
    assert client.get("/readyz").status_code == 200
