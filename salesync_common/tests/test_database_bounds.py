"""The connection budget of one process and the bounds of every transaction: a pool sized to the request
threads, and statement, lock and idle-in-transaction timeouts set per transaction (so they hold through
PgBouncer's transaction pooling). A busy database answers a JSON 503 that says when to retry, never a 500."""
import time

import psycopg2
import pytest
from flask import jsonify
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from salesync_common.settings import Settings
from store_service.app import create_app
from store_service.app.models import db
from testsupport.clients import CheckedClient
from testsupport.postgres import libpq_url
from testsupport.settings import TEST_ENV, migrated_settings

BOUNDS = {"db_statement_timeout_ms": 300, "db_lock_timeout_ms": 200, "db_idle_in_transaction_timeout_ms": 1000,
          "db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_ms": 200}


@pytest.fixture(scope="module")
def app(database_url):
    app = create_app(migrated_settings("store", database_url, **BOUNDS))

    def sleeps(seconds):
        db.session.execute(text("SELECT pg_sleep(:s)"), {"s": float(seconds)})
        return jsonify(slept=seconds)

    def locks():
        db.session.execute(text("LOCK TABLE store.login_failures IN ACCESS EXCLUSIVE MODE"))
        return jsonify(locked=True)

    def timeouts():
        names = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")
        return jsonify({name: db.session.execute(text(f"SHOW {name}")).scalar() for name in names})

    for view, rule in ((sleeps, "/probe/sleep/<seconds>"), (locks, "/probe/lock"), (timeouts, "/probe/timeouts")):
        app.add_url_rule(rule, view_func=view)
    app.test_client_class = CheckedClient
    yield app
    with app.app_context():
        db.engine.dispose()


def test_the_pool_is_sized_to_the_request_threads_with_a_little_overflow():
    settings = Settings.from_env("store", env={**TEST_ENV, "GUNICORN_THREADS": "6"})
    assert (settings.db_pool_size, settings.db_max_overflow) == (6, 1)
    assert Settings.from_env("store", env=TEST_ENV).db_pool_size == 4
    explicit = Settings.from_env("store", env={**TEST_ENV, "GUNICORN_THREADS": "6", "SALESYNC_DB_POOL_SIZE": "2"})
    assert explicit.db_pool_size == 2


def test_every_transaction_carries_the_configured_timeouts(app):
    assert app.test_client().get("/probe/timeouts").get_json() == {
        "statement_timeout": "300ms", "lock_timeout": "200ms", "idle_in_transaction_session_timeout": "1s"}


def test_a_statement_past_the_timeout_answers_503_with_retry_advice(app):
    response = app.test_client().get("/probe/sleep/2")
    assert response.status_code == 503
    assert response.get_json()["error"] == "database_timeout"
    assert "retry" in response.get_json()["message"]
    assert response.headers["Retry-After"] == "2"
    # The connection is fine afterwards: the next request is answered.
    assert app.test_client().get("/probe/sleep/0").status_code == 200


def test_a_lock_waited_on_past_the_lock_timeout_answers_503(app, database_url):
    with psycopg2.connect(libpq_url(database_url)) as holder, holder.cursor() as cursor:
        cursor.execute("LOCK TABLE store.login_failures IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = app.test_client().get("/probe/lock")
        waited = time.monotonic() - started
        holder.rollback()
    assert response.status_code == 503 and response.get_json()["error"] == "database_busy"
    assert response.headers["Retry-After"] == "1"
    assert waited < 2.0  # the 200 ms lock timeout, not the holder, ended the wait


def test_an_exhausted_pool_answers_503_with_retry_after(app):
    with app.app_context():
        held = db.engine.connect()  # the pool's only connection
        try:
            response = app.test_client().get("/probe/sleep/0")
        finally:
            held.close()
    assert response.status_code == 503
    assert response.get_json()["error"] == "database_busy" and response.headers["Retry-After"] == "1"
    assert app.test_client().get("/probe/sleep/0").status_code == 200


def test_postgresql_ends_a_transaction_left_idle_past_its_bound(app, database_url):
    """A process that stalls mid-transaction (a hung call, a paused pod) cannot hold its locks and its
    PgBouncer server connection for longer than the idle-in-transaction timeout."""
    with app.app_context(), db.engine.connect() as connection:
        connection.execute(text("LOCK TABLE store.login_failures IN ROW EXCLUSIVE MODE"))
        time.sleep(1.0)
        with pytest.raises(OperationalError):
            connection.execute(text("SELECT 1"))
    # ... and its lock went with it: another session takes the table at once.
    with psycopg2.connect(libpq_url(database_url)) as other, other.cursor() as cursor:
        cursor.execute("SET lock_timeout = '100ms'")
        cursor.execute("LOCK TABLE store.login_failures IN ACCESS EXCLUSIVE MODE")

