"""Refunds keep the lines they take back, and when the refunded order was paid.

The reports take a refunded sale's lines out on the day of the refund; the sale service records them
from the order service when the refund is made.

Revision ID: 0003_refunds
Revises: 0002
Create Date: 2026-12-01 02:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003_refunds'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('refunds', sa.Column('order_paid_at', sa.DateTime(timezone=True), nullable=True), schema='sale')
    op.create_table('refund_lines',
    sa.Column('refund_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('item_name', sa.String(length=100), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_refund_lines_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_refund_lines_unit_price_not_negative')),
    sa.ForeignKeyConstraint(['refund_id'], ['sale.refunds.refund_id'], name=op.f('fk_refund_lines_refund_id_refunds'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('refund_id', 'item_id', name=op.f('pk_refund_lines')),
    schema='sale'
    )


def downgrade():
    op.drop_table('refund_lines', schema='sale')
    op.drop_column('refunds', 'order_paid_at', schema='sale')
