"""The database session of a service, bound to the PostgreSQL schema that service owns."""
from __future__ import annotations

import logging
import time
import weakref

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, MetaData, event, text
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .errors import error_response
from .settings import Settings

log = logging.getLogger(__name__)

# Stable constraint names, so migrations can drop and recreate them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# A connection back in the pool for less than this is taken as alive; one idle longer is pinged
# first, so a PostgreSQL restart or a connection dropped while idle costs no request. Under POS
# load (and with the pool handing out the most recent connection first) that saves the round
# trip pool_pre_ping spends on every request.
PING_IF_IDLE_SECONDS = 2.0

# The largest id a PostgreSQL integer column holds; a larger id cannot name a row.
MAX_ID = 2_147_483_647


def make_database(schema: str) -> SQLAlchemy:
    """One SQLAlchemy object per service; its tables live in `schema` unless a model says otherwise."""
    return SQLAlchemy(
        metadata=MetaData(schema=schema, naming_convention=NAMING_CONVENTION),
        session_options={"expire_on_commit": False},
    )


# PostgreSQL's SQLSTATEs for a statement it cancelled (statement_timeout), a lock it did not get in
# time (lock_timeout).
_STATEMENT_TIMEOUT = "57014"
LOCK_NOT_AVAILABLE = "55P03"


def configure_database(app: Flask, db: SQLAlchemy, settings: Settings) -> None:
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(settings)
    db.init_app(app)
    app.extensions["salesync_db"] = db
    with app.app_context():
        ping_idle_connections(db.engine)
        bound_every_transaction(db.engine, settings)
    register_database_error_handlers(app)


def engine_options(settings: Settings) -> dict:
    """The pool of one process: a connection per request thread and a little overflow (the README's
    connection budget). No startup `options`: PgBouncer in transaction pooling refuses them, and a
    server connection serves other clients between transactions, so nothing may be set per session."""
    return {
        "pool_use_lifo": True,
        "pool_recycle": 1800,
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_ms / 1000,
        "connect_args": {"application_name": f"salesync-{settings.service}", "connect_timeout": 5},
    }


def bound_every_transaction(engine: Engine, settings: Settings) -> None:
    """No statement, lock wait or idle transaction lasts forever. Set at the start of each transaction
    (SET LOCAL ends with it), so the bounds hold on whichever server connection PgBouncer lends.

    They travel in front of the transaction's first statement, in the same round trip (psycopg2 sends a
    statement with its parameters filled in as one query string, and PostgreSQL runs every statement of it
    in the transaction): a round trip of its own was a fifth of a small read's trips to PostgreSQL. Added at
    the driver's execute, after SQLAlchemy's statement events, so query counts and logs see the statement
    as written."""
    bounds = (f"SET LOCAL statement_timeout = {int(settings.db_statement_timeout_ms)};"
              f" SET LOCAL lock_timeout = {int(settings.db_lock_timeout_ms)};"
              f" SET LOCAL idle_in_transaction_session_timeout = {int(settings.db_idle_in_transaction_timeout_ms)};")

    # The driver connections whose transaction has begun and not yet sent its bounds.
    due: weakref.WeakSet = weakref.WeakSet()

    def bounds_due(cursor) -> bool:
        if cursor.connection not in due:
            return False
        due.discard(cursor.connection)
        # In autocommit (a migration's CREATE INDEX CONCURRENTLY) there is no transaction to bound, and two
        # statements in one query string would make one.
        return not cursor.connection.autocommit

    @event.listens_for(engine, "begin")
    def _transaction_begins(connection):
        due.add(connection.connection.dbapi_connection)

    @event.listens_for(engine, "do_execute")
    def _with_parameters(cursor, statement, parameters, context):
        if bounds_due(cursor):
            cursor.execute(bounds + statement, parameters)
            return True
        return None

    @event.listens_for(engine, "do_execute_no_params")
    def _without_parameters(cursor, statement, context):
        if bounds_due(cursor):
            cursor.execute(bounds + statement)
            return True
        return None

    @event.listens_for(engine, "do_executemany")
    def _before_many(cursor, statement, parameters, context):
        if bounds_due(cursor):  # once, not in front of each set of parameters
            cursor.execute(bounds)


def register_database_error_handlers(app: Flask) -> None:
    """A busy or unreachable database answers a JSON 503 that says when to retry, never a 500."""

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(exc: PoolTimeout):
        log.warning("no database connection free: %s", exc)
        return error_response(503, "database_busy", "every database connection of this service is busy; "
                              "retry in a second", {"Retry-After": "1"})

    @app.errorhandler(OperationalError)
    def _database_failed(exc: OperationalError):
        code = getattr(exc.orig, "pgcode", None)
        log.warning("database operation failed (%s): %s", code, exc.orig)
        if code == _STATEMENT_TIMEOUT:
            return error_response(503, "database_timeout", "the database took too long to answer; "
                                  "retry in a few seconds", {"Retry-After": "2"})
        if code == LOCK_NOT_AVAILABLE:
            return error_response(503, "database_busy", "a record this request needs is busy; retry in a second",
                                  {"Retry-After": "1"})
        return error_response(503, "database_unavailable", "the database cannot be reached; "
                              "retry in a few seconds", {"Retry-After": "5"})


def ping_idle_connections(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _remember_when(dbapi_connection, record):
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        if time.monotonic() - record.info.get("checked_in_at", 0.0) < PING_IF_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool throws this connection (and older ones) away and checks out a fresh one.
            raise DisconnectionError(str(error)) from error


def database_is_reachable(db: SQLAlchemy) -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        db.session.rollback()
        return False
    finally:
        db.session.remove()

