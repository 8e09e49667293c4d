"""The refund item-day aggregate (store, business day of the refund, business day of the sale, item:
quantity and sales taken back), backfilled from the refund lines.

The business days need the store's time zone, which the store service owns: the backfill reads it from
the store schema when it lives in the same database (compose, Kubernetes, `make run`), and takes
Asia/Seoul (the store default) for a store it cannot see there.

Revision ID: 0005_refund_item_days
Revises: 0004_sales_page_index
Create Date: 2026-12-01 04:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005_refund_item_days'
down_revision = '0004_sales_page_index'
branch_labels = None
depends_on = None

DEFAULT_TIME_ZONE = 'Asia/Seoul'


def upgrade():
    op.create_table('refund_item_days',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('sold_on', sa.Date(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('item_name', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('sales_volume', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_refund_item_days_quantity_positive')),
    sa.CheckConstraint('sales_volume >= 0', name=op.f('ck_refund_item_days_sales_volume_not_negative')),
    sa.PrimaryKeyConstraint('store_id', 'business_day', 'sold_on', 'item_id', name=op.f('pk_refund_item_days')),
    schema='sale'
    )
    connection = op.get_bind()
    has_stores = connection.execute(sa.text("SELECT to_regclass('store.stores') IS NOT NULL")).scalar()
    zones = ("SELECT store_id, time_zone FROM store.stores" if has_stores
             else "SELECT NULL::integer AS store_id, NULL::varchar AS time_zone WHERE false")
    connection.execute(sa.text(f"""
        INSERT INTO sale.refund_item_days (store_id, business_day, sold_on, item_id, item_name, quantity,
                                           sales_volume)
        SELECT r.store_id, date(timezone(coalesce(z.time_zone, :default_zone), r.created_at)),
               date(timezone(coalesce(z.time_zone, :default_zone), r.order_paid_at)), l.item_id,
               (array_agg(l.item_name ORDER BY r.order_paid_at DESC))[1],
               sum(l.quantity), sum(l.quantity::bigint * l.unit_price)
        FROM sale.refunds r JOIN sale.refund_lines l ON l.refund_id = r.refund_id
        LEFT JOIN ({zones}) z ON z.store_id = r.store_id
        WHERE r.order_paid_at IS NOT NULL
        GROUP BY 1, 2, 3, 4
    """), {"default_zone": DEFAULT_TIME_ZONE})


def downgrade():
    op.drop_table('refund_item_days', schema='sale')
