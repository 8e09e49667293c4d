"""The purge finds outbox rows delivered long ago and jobs finished long ago by indexes, not by reading the tables.

Built CONCURRENTLY, outside the migration's transaction: the tables stay writable while the indexes build, so no
POS write waits for this migration. A run that stopped half-way can be run again: an index it left invalid
is dropped and built anew.

Revision ID: 0004_purge_indexes
Revises: 0003_consulting_figures
Create Date: 2026-12-01 04:45:00
"""
from salesync_common.migrations_env import create_indexes_concurrently, drop_indexes_concurrently

revision = '0004_purge_indexes'
down_revision = '0003_consulting_figures'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_outbox_sent_at', 'outbox', ['sent_at'], 'sent_at IS NOT NULL'),
    ('ix_consulting_jobs_finished_at', 'consulting_jobs', ['finished_at'], 'finished_at IS NOT NULL'),
]


def upgrade():
    create_indexes_concurrently('consulting', INDEXES)


def downgrade():
    drop_indexes_concurrently('consulting', INDEXES)
