"""The purge finds dead letters past their keeping time by an index on dead_lettered_at, not by reading the table.

Built CONCURRENTLY, outside the migration's transaction: the table stays writable while the index builds, so no
POS write waits for this migration. A run that stopped half-way can be run again: an index it left invalid
is dropped and built anew.

Revision ID: 0005_purge_index
Revises: 0004_dead_letters
Create Date: 2026-12-01 04:45:00
"""
from alembic import op
import sqlalchemy as sa

from salesync_common.migrations_env import drop_if_invalid

revision = '0005_purge_index'
down_revision = '0004_dead_letters'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_dead_letters_dead_lettered_at', 'dead_letters', ['dead_lettered_at'], None),
]


def upgrade():
    with op.get_context().autocommit_block():
        for name, table, columns, where in INDEXES:
            drop_if_invalid('dashboard', name)
            op.create_index(name, table, columns, schema='dashboard', if_not_exists=True, postgresql_concurrently=True,
                            postgresql_where=sa.text(where) if where else None)


def downgrade():
    with op.get_context().autocommit_block():
        for name, table, _columns, _where in INDEXES:
            op.drop_index(name, table_name=table, schema='dashboard', if_exists=True, postgresql_concurrently=True)
