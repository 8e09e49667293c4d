"""Sales (pending until the order is closed), refunds, idempotency keys.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 22:02:30.510547
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotency_keys',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'key', name=op.f('pk_idempotency_keys')),
    schema='sale'
    )
    op.create_table('sales',
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('table_no', sa.Integer(), nullable=False),
    sa.Column('total_price', sa.BigInteger(), nullable=False),
    sa.Column('payment_method', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('failure_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name=op.f('ck_sales_completed_has_time')),
    sa.CheckConstraint("payment_method IN ('cash', 'card')", name=op.f('ck_sales_payment_method_known')),
    sa.CheckConstraint("status IN ('pending', 'completed', 'failed')", name=op.f('ck_sales_status_known')),
    sa.CheckConstraint('total_price >= 0', name=op.f('ck_sales_total_not_negative')),
    sa.PrimaryKeyConstraint('sale_id', name=op.f('pk_sales')),
    schema='sale'
    )
    op.create_index('ix_sales_pending', 'sales', ['created_at'], unique=False, schema='sale', postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_sales_store_completed_at', 'sales', ['store_id', 'completed_at'], unique=False, schema='sale', postgresql_where=sa.text("status = 'completed'"))
    op.create_index('uq_sales_live_order', 'sales', ['order_id'], unique=True, schema='sale', postgresql_where=sa.text("status <> 'failed'"))
    op.create_table('refunds',
    sa.Column('refund_id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_refunds_amount_not_negative')),
    sa.ForeignKeyConstraint(['sale_id'], ['sale.sales.sale_id'], name=op.f('fk_refunds_sale_id_sales')),
    sa.PrimaryKeyConstraint('refund_id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('sale_id', name=op.f('uq_refunds_sale_id')),
    schema='sale'
    )
    op.create_index('ix_refunds_store_created_at', 'refunds', ['store_id', 'created_at'], unique=False, schema='sale')


def downgrade():
    op.drop_index('ix_refunds_store_created_at', table_name='refunds', schema='sale')
    op.drop_table('refunds', schema='sale')
    op.drop_index('uq_sales_live_order', table_name='sales', schema='sale', postgresql_where=sa.text("status <> 'failed'"))
    op.drop_index('ix_sales_store_completed_at', table_name='sales', schema='sale', postgresql_where=sa.text("status = 'completed'"))
    op.drop_index('ix_sales_pending', table_name='sales', schema='sale', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('sales', schema='sale')
    op.drop_table('idempotency_keys', schema='sale')
