"""The purge finds idempotency keys past their day by an index on created_at, not by reading the table.

Built CONCURRENTLY, outside the migration's transaction: the table stays writable while the index builds, so no
POS write waits for this migration. A run that stopped half-way can be run again: an index it left invalid
is dropped and built anew.

Revision ID: 0003_purge_index
Revises: 0002_item_days
Create Date: 2026-12-01 04:45:00
"""
from alembic import op
import sqlalchemy as sa

from salesync_common.migrations_env import drop_if_invalid

revision = '0003_purge_index'
down_revision = '0002_item_days'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'], None),
]


def upgrade():
    with op.get_context().autocommit_block():
        for name, table, columns, where in INDEXES:
            drop_if_invalid('order', name)
            op.create_index(name, table, columns, schema='order', if_not_exists=True, postgresql_concurrently=True,
                            postgresql_where=sa.text(where) if where else None)


def downgrade():
    with op.get_context().autocommit_block():
        for name, table, _columns, _where in INDEXES:
            op.drop_index(name, table_name=table, schema='order', if_exists=True, postgresql_concurrently=True)
