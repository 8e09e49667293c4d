"""The database session of a service, bound to the PostgreSQL schema that service owns."""
from __future__ import annotations

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, text

from .settings import Settings

# Stable constraint names, so migrations can drop and recreate them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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
        "pool_pre_ping": True,
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


def database_is_reachable(db: SQLAlchemy) -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        db.session.rollback()
        return False
    finally:
        db.session.remove()


def truncate_all(db: SQLAlchemy) -> None:
    """Empty every table of this service (tests start from a clean state).

    Ids keep counting: other services may still hold references to earlier rows.
    """
    tables = ", ".join(f'"{t.schema}"."{t.name}"' for t in db.metadata.sorted_tables)
    if tables:
        db.session.execute(text(f"TRUNCATE {tables} CASCADE"))
        db.session.commit()
