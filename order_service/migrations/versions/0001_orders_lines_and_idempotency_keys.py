"""Orders with their lines (name and price as ordered), and idempotency keys.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 22:01:04.601223
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
    schema='order'
    )
    op.create_table('orders',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('table_no', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total_price', sa.BigInteger(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'paid') = (paid_at IS NOT NULL AND sale_id IS NOT NULL)", name=op.f('ck_orders_paid_has_sale')),
    sa.CheckConstraint("status IN ('open', 'paid', 'cancelled')", name=op.f('ck_orders_status_known')),
    sa.CheckConstraint('table_no BETWEEN 0 AND 99', name=op.f('ck_orders_table_no_range')),
    sa.CheckConstraint('total_price >= 0', name=op.f('ck_orders_total_not_negative')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_orders')),
    schema='order'
    )
    op.create_index('ix_orders_store_paid_at', 'orders', ['store_id', 'paid_at'], unique=False, schema='order', postgresql_where=sa.text("status = 'paid'"))
    op.create_index('uq_orders_open_table', 'orders', ['store_id', 'table_no'], unique=True, schema='order', postgresql_where=sa.text("status = 'open'"))
    op.create_index('uq_orders_sale_id', 'orders', ['sale_id'], unique=True, schema='order', postgresql_where=sa.text('sale_id IS NOT NULL'))
    op.create_table('order_lines',
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('item_name', sa.String(length=100), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity BETWEEN 1 AND 999', name=op.f('ck_order_lines_quantity_range')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_order_lines_unit_price_not_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['order.orders.order_id'], name=op.f('fk_order_lines_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('line_id', name=op.f('pk_order_lines')),
    schema='order'
    )
    op.create_index('uq_order_lines_order_item', 'order_lines', ['order_id', 'item_id'], unique=True, schema='order')


def downgrade():
    op.drop_index('uq_order_lines_order_item', table_name='order_lines', schema='order')
    op.drop_table('order_lines', schema='order')
    op.drop_index('uq_orders_sale_id', table_name='orders', schema='order', postgresql_where=sa.text('sale_id IS NOT NULL'))
    op.drop_index('uq_orders_open_table', table_name='orders', schema='order', postgresql_where=sa.text("status = 'open'"))
    op.drop_index('ix_orders_store_paid_at', table_name='orders', schema='order', postgresql_where=sa.text("status = 'paid'"))
    op.drop_table('orders', schema='order')
    op.drop_table('idempotency_keys', schema='order')
