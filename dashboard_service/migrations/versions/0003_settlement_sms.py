"""Settlement SMS limits: a store's messages in the last 24 hours and the deployment's of the day, by index

Revision ID: 0003_settlement_sms
Revises: 0002
Create Date: 2026-11-24 02:40:00.000000
"""
from alembic import op


revision = '0003_settlement_sms'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_settlements_store_created', 'settlements', ['store_id', 'created_at'], unique=False,
                    schema='dashboard')
    op.create_index('ix_settlements_created', 'settlements', ['created_at'], unique=False, schema='dashboard')


def downgrade():
    op.drop_index('ix_settlements_created', table_name='settlements', schema='dashboard')
    op.drop_index('ix_settlements_store_created', table_name='settlements', schema='dashboard')
