"""The body of every service's migrations/env.py: Alembic run against that service's own schema.

The schema is created if missing, the version table lives inside it (so services never
share one), and an advisory lock keeps two processes from migrating the same schema at once.

Migrations connect to PostgreSQL directly, never through a transaction pooler (PgBouncer): the lock is
session-level and outlives the commits below (and the autocommit blocks of CREATE INDEX CONCURRENTLY), so
behind a pooler the unlock would run on another server connection and fail, and the lock would stay held
by a pooled connection, blocking the schema's next migration (compose and the k8s Jobs use a direct URL).
"""
from __future__ import annotations

from alembic import context
from flask import current_app
from sqlalchemy import text


def run_migrations() -> None:
    db = current_app.extensions["migrate"].db
    schema = db.metadata.schema

    def only_own_schema(name, type_, parent_names):
        if type_ == "schema":
            return name == schema
        return True

    options = dict(
        target_metadata=db.metadata,
        version_table_schema=schema,
        include_schemas=True,
        include_name=only_own_schema,
        compare_type=True,
    )
    if context.is_offline_mode():
        context.configure(url=str(db.engine.url), literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    with db.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(hashtext(:key))"), {"key": f"salesync-migrate-{schema}"})
        try:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.commit()
            context.configure(connection=connection, **options)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": f"salesync-migrate-{schema}"})
            connection.commit()


def drop_if_invalid(schema: str, name: str) -> None:
    """For a migration about to CREATE INDEX CONCURRENTLY IF NOT EXISTS: a build cancelled half-way (a statement
    timeout, a killed Job) leaves an invalid index of that name, which IF NOT EXISTS would keep for good (never
    used, still written). Drop it, so the build runs again. Call it inside the migration's autocommit block."""
    from alembic import op  # noqa: PLC0415  only a running migration has an `op`

    invalid = op.get_bind().execute(
        text("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:index)"),
        {"index": f'"{schema}"."{name}"'}).scalar()
    if invalid:
        op.drop_index(name, schema=schema, if_exists=True, postgresql_concurrently=True)


def create_indexes_concurrently(schema: str, indexes: list[tuple[str, str, list[str], str | None]]) -> None:
    """CREATE INDEX CONCURRENTLY IF NOT EXISTS for each (name, table, columns, partial WHERE or None), outside
    the migration's transaction, so the tables stay writable while they build; an index a cancelled build left
    invalid is dropped first and built anew."""
    from alembic import op  # noqa: PLC0415  only a running migration has an `op`

    with op.get_context().autocommit_block():
        for name, table, columns, where in indexes:
            drop_if_invalid(schema, name)
            op.create_index(name, table, columns, schema=schema, if_not_exists=True, postgresql_concurrently=True,
                            postgresql_where=text(where) if where else None)


def drop_indexes_concurrently(schema: str, indexes: list[tuple[str, str, list[str], str | None]]) -> None:
    """The downgrade of create_indexes_concurrently."""
    from alembic import op  # noqa: PLC0415  only a running migration has an `op`

    with op.get_context().autocommit_block():
        for name, table, _columns, _where in indexes:
            op.drop_index(name, table_name=table, schema=schema, if_exists=True, postgresql_concurrently=True)
