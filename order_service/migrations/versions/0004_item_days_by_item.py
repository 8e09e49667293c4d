"""The item-day report reads a store's period item by item, each item's days in order (one array per item,
app/reports.py): an index in that order spares PostgreSQL sorting the period's rows on every report (a year
of a 40-item menu is 14,600 rows).

Built CONCURRENTLY, outside the migration's transaction, as 0003: payments keep writing item days meanwhile.

Revision ID: 0004_item_days_by_item
Revises: 0003_purge_index
Create Date: 2026-12-01 07:35:00
"""
from salesync_common.migrations_env import create_indexes_concurrently, drop_indexes_concurrently

revision = '0004_item_days_by_item'
down_revision = '0003_purge_index'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_item_days_store_item_day', 'item_days', ['store_id', 'item_id', 'business_day'], None),
]


def upgrade():
    create_indexes_concurrently('order', INDEXES)


def downgrade():
    drop_indexes_concurrently('order', INDEXES)
