"""The purge finds throttle rows and password proofs past their window by an index on their time, not by reading the tables.

Built CONCURRENTLY, outside the migration's transaction: the tables stay writable while the indexes build, so no
POS write waits for this migration. A run that stopped half-way can be run again: an index it left invalid
is dropped and built anew.

Revision ID: 0005_purge_indexes
Revises: 0004_password_proof
Create Date: 2026-12-01 04:45:00
"""
from salesync_common.migrations_env import create_indexes_concurrently, drop_indexes_concurrently

revision = '0005_purge_indexes'
down_revision = '0004_password_proof'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_login_failures_failed_at', 'login_failures', ['failed_at'], None),
    ('ix_password_check_failures_failed_at', 'password_check_failures', ['failed_at'], None),
    ('ix_sign_ups_signed_up_at', 'sign_ups', ['signed_up_at'], None),
    ('ix_password_proofs_proved_at', 'password_proofs', ['proved_at'], None),
]


def upgrade():
    create_indexes_concurrently('store', INDEXES)


def downgrade():
    drop_indexes_concurrently('store', INDEXES)
