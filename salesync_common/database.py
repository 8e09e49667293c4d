"""The database session of a service, bound to the PostgreSQL schema that service owns."""
from __future__ import annotations

import time

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, MetaData, event, text
from sqlalchemy.exc import DisconnectionError

from .settings import Settings

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


def configure_database(app: Flask, db: SQLAlchemy, settings: Settings) -> None:
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_use_lifo": True,
        "pool_recycle": 1800,
        "pool_size": 5,
        "max_overflow": 10,
        "pool_timeout": 5,
        "connect_args": {
            "application_name": f"salesync-{settings.service}",
            "connect_timeout": 5,
            # No request may hold a connection forever.
            "options": "-c statement_timeout=15000 -c lock_timeout=5000",
        },
    }
    db.init_app(app)
    app.extensions["salesync_db"] = db
    with app.app_context():
        ping_idle_connections(db.engine)


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

