"""GET /sales/ pages newest first by (completed_at, sale_id): one index serves that order and the cursor.

The index on (store_id, completed_at) it replaces is its prefix, so the revenue reports' ranges still use it.

Revision ID: 0004_sales_page_index
Revises: 0003_refunds
Create Date: 2026-12-01 03:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0004_sales_page_index'
down_revision = '0003_refunds'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_sales_store_completed_at_sale', 'sales', ['store_id', 'completed_at', 'sale_id'], unique=False,
                    schema='sale', postgresql_where=sa.text("status = 'completed'"))
    op.drop_index('ix_sales_store_completed_at', table_name='sales', schema='sale',
                  postgresql_where=sa.text("status = 'completed'"))


def downgrade():
    op.create_index('ix_sales_store_completed_at', 'sales', ['store_id', 'completed_at'], unique=False,
                    schema='sale', postgresql_where=sa.text("status = 'completed'"))
    op.drop_index('ix_sales_store_completed_at_sale', table_name='sales', schema='sale',
                  postgresql_where=sa.text("status = 'completed'"))
