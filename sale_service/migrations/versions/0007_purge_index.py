"""The purge finds idempotency keys past their day by an index on created_at, not by reading the table.

Built CONCURRENTLY, outside the migration's transaction: the table stays writable while the index builds, so no
POS write waits for this migration. A run that stopped half-way can be run again: an index it left invalid
is dropped and built anew.

Revision ID: 0007_purge_index
Revises: 0006_revenue_days
Create Date: 2026-12-01 04:45:00
"""
from salesync_common.migrations_env import create_indexes_concurrently, drop_indexes_concurrently

revision = '0007_purge_index'
down_revision = '0006_revenue_days'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'], None),
]


def upgrade():
    create_indexes_concurrently('sale', INDEXES)


def downgrade():
    drop_indexes_concurrently('sale', INDEXES)
