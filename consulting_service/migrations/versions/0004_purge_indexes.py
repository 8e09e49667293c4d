"""The purge finds outbox rows delivered long ago and jobs finished long ago by indexes, not by reading the tables.

Built CONCURRENTLY, outside the migration's transaction: the tables stay writable while the indexes build, so no
POS write waits for this migration. A run that stopped half-way can be run again: an index it left invalid
is dropped and built anew.

Revision ID: 0004_purge_indexes
Revises: 0003_consulting_figures
Create Date: 2026-12-01 04:45:00
"""
from alembic import op
import sqlalchemy as sa

from salesync_common.migrations_env import drop_if_invalid

revision = '0004_purge_indexes'
down_revision = '0003_consulting_figures'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_outbox_sent_at', 'outbox', ['sent_at'], 'sent_at IS NOT NULL'),
    ('ix_consulting_jobs_finished_at', 'consulting_jobs', ['finished_at'], 'finished_at IS NOT NULL'),
]


def upgrade():
    with op.get_context().autocommit_block():
        for name, table, columns, where in INDEXES:
            drop_if_invalid('consulting', name)
            op.create_index(name, table, columns, schema='consulting', if_not_exists=True, postgresql_concurrently=True,
                            postgresql_where=sa.text(where) if where else None)


def downgrade():
    with op.get_context().autocommit_block():
        for name, table, _columns, _where in INDEXES:
            op.drop_index(name, table_name=table, schema='consulting', if_exists=True, postgresql_concurrently=True)
