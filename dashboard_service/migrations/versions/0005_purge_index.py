"""The purge finds dead letters past their keeping time by an index on dead_lettered_at, not by reading the table.

Built CONCURRENTLY, outside the migration's transaction: the table stays writable while the index builds, so no
POS write waits for this migration. A run that stopped half-way can be run again: an index it left invalid
is dropped and built anew.

Revision ID: 0005_purge_index
Revises: 0004_dead_letters
Create Date: 2026-12-01 04:45:00
"""
from salesync_common.migrations_env import create_indexes_concurrently, drop_indexes_concurrently

revision = '0005_purge_index'
down_revision = '0004_dead_letters'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_dead_letters_dead_lettered_at', 'dead_letters', ['dead_lettered_at'], None),
]


def upgrade():
    create_indexes_concurrently('dashboard', INDEXES)


def downgrade():
    drop_indexes_concurrently('dashboard', INDEXES)
