"""Sales remember the POS's Idempotency-Key.

A payment cut off by a crash is finished by the reconciler; the POS's retry with the same key
must then be answered with that sale instead of "no open order".

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 01:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('sales', sa.Column('idempotency_key', sa.String(length=255), nullable=True), schema='sale')
    op.create_index('ix_sales_idempotency_key', 'sales', ['store_id', 'idempotency_key'], unique=False,
                    schema='sale', postgresql_where=sa.text("idempotency_key IS NOT NULL"))


def downgrade():
    op.drop_index('ix_sales_idempotency_key', table_name='sales', schema='sale')
    op.drop_column('sales', 'idempotency_key', schema='sale')
