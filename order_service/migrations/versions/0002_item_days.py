"""The item-day aggregate (store, business day of payment, item: quantity and sales), backfilled from the
paid order lines.

The business day needs the store's time zone, which the store service owns: the backfill reads it from
the store schema when it lives in the same database (compose, Kubernetes, `make run`), and takes
Asia/Seoul (the store default) for a store it cannot see there.

Revision ID: 0002_item_days
Revises: 0001
Create Date: 2026-12-01 04:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002_item_days'
down_revision = '0001'
branch_labels = None
depends_on = None

DEFAULT_TIME_ZONE = 'Asia/Seoul'


def upgrade():
    op.create_table('item_days',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('item_name', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('sales_volume', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_item_days_quantity_positive')),
    sa.CheckConstraint('sales_volume >= 0', name=op.f('ck_item_days_sales_volume_not_negative')),
    sa.PrimaryKeyConstraint('store_id', 'business_day', 'item_id', name=op.f('pk_item_days')),
    schema='order'
    )
    connection = op.get_bind()
    has_stores = connection.execute(sa.text("SELECT to_regclass('store.stores') IS NOT NULL")).scalar()
    zones = ("SELECT store_id, time_zone FROM store.stores" if has_stores
             else "SELECT NULL::integer AS store_id, NULL::varchar AS time_zone WHERE false")
    connection.execute(sa.text(f"""
        INSERT INTO "order".item_days (store_id, business_day, item_id, item_name, quantity, sales_volume)
        SELECT o.store_id, date(timezone(coalesce(z.time_zone, :default_zone), o.paid_at)), l.item_id,
               (array_agg(l.item_name ORDER BY o.paid_at DESC, l.line_id DESC))[1],
               sum(l.quantity), sum(l.quantity::bigint * l.unit_price)
        FROM "order".orders o JOIN "order".order_lines l ON l.order_id = o.order_id
        LEFT JOIN ({zones}) z ON z.store_id = o.store_id
        WHERE o.status = 'paid'
        GROUP BY 1, 2, 3
    """), {"default_zone": DEFAULT_TIME_ZONE})


def downgrade():
    op.drop_table('item_days', schema='order')
