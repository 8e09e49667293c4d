"""After a rollback, the old release's migration command meets a schema a newer release migrated: that
is success with a warning (the schema left as it is), and the other schemas are still migrated."""
import os
import pathlib
import subprocess
import sys
import uuid

import psycopg2
import pytest

from salesync_common.migrate import services_with_migrations
from testsupport.postgres import drop_database, ensure_database, libpq_url, with_database

REPO = pathlib.Path(__file__).resolve().parents[2]
NEWER = "0099_from_a_newer_release"


@pytest.fixture
def own_database(database_url):
    """A database of this test's own: it takes a schema past this code's head."""
    name = f"salesync_rollback_{uuid.uuid4().hex[:8]}"
    server = with_database(database_url, "postgres")
    yield ensure_database(server, name)
    drop_database(server, name)


def migrate(database_url: str) -> subprocess.CompletedProcess:
    """The command as the migration Job and `make run` run it."""
    return subprocess.run([sys.executable, "-m", "salesync_common.migrate"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": database_url, "SALESYNC_ENV": "development"}, timeout=300,
                          check=False)


def query(database_url: str, statement: str) -> list[tuple]:
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_a_schema_at_a_newer_release_is_left_with_a_warning_and_the_others_migrate(own_database):
    assert migrate(own_database).returncode == 0
    # A newer release migrated the order schema; the sale schema (migrated after it) is yet to be built.
    query(own_database, f"""UPDATE "order".alembic_version SET version_num = '{NEWER}'""")
    query(own_database, "DROP SCHEMA sale CASCADE")

    done = migrate(own_database)

    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "order" in warnings[0] and NEWER in warnings[0]
    assert query(own_database, 'SELECT version_num FROM "order".alembic_version') == [(NEWER,)]
    assert query(own_database, "SELECT count(*) FROM sale.sales") == [(0,)]
    migrated = {line.removeprefix("migrated ") for line in done.stdout.splitlines() if line.startswith("migrated ")}
    assert migrated == set(services_with_migrations()) - {"order"}


def test_a_revision_this_release_knows_is_upgraded_as_before(own_database):
    assert migrate(own_database).returncode == 0
    query(own_database, """UPDATE "order".alembic_version SET version_num = '0002_item_days'""")
    query(own_database, 'DROP INDEX "order".ix_idempotency_keys_created_at')

    done = migrate(own_database)

    assert done.returncode == 0 and "warning:" not in done.stderr
    assert query(own_database, """SELECT count(*) FROM pg_indexes WHERE schemaname = 'order'
                                  AND indexname = 'ix_idempotency_keys_created_at'""") == [(1,)]


def test_an_index_a_cancelled_concurrent_build_left_invalid_is_built_again(own_database):
    """CREATE INDEX CONCURRENTLY cancelled half-way (the statement timeout on a table grown for a year, a Job
    killed) leaves an invalid index of that name; IF NOT EXISTS alone would keep it, and the purge would read
    the whole table for good. Running the migration again builds it anew."""
    assert migrate(own_database).returncode == 0
    query(own_database, """UPDATE pg_index SET indisvalid = false
                           WHERE indexrelid = '"order".ix_idempotency_keys_created_at'::regclass""")
    query(own_database, """UPDATE "order".alembic_version SET version_num = '0002_item_days'""")

    done = migrate(own_database)

    assert done.returncode == 0, done.stderr
    assert query(own_database, """SELECT indisvalid FROM pg_index
                                  WHERE indexrelid = '"order".ix_idempotency_keys_created_at'::regclass""") == [(True,)]
