"""The revenue-day aggregate (store, business day: payments, paid and refunded amounts by method),
backfilled from the completed sales and the refunds.

The business day needs the store's time zone, which the store service owns: the backfill reads it from
the store schema when it lives in the same database (compose, Kubernetes, `make run`), and takes
Asia/Seoul (the store default) for a store it cannot see there.

Revision ID: 0006_revenue_days
Revises: 0005_refund_item_days
Create Date: 2026-12-01 04:55:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006_revenue_days'
down_revision = '0005_refund_item_days'
branch_labels = None
depends_on = None

DEFAULT_TIME_ZONE = 'Asia/Seoul'


def upgrade():
    op.create_table('revenue_days',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('payments', sa.Integer(), nullable=False),
    sa.Column('paid_cash', sa.BigInteger(), nullable=False),
    sa.Column('paid_card', sa.BigInteger(), nullable=False),
    sa.Column('refunded_cash', sa.BigInteger(), nullable=False),
    sa.Column('refunded_card', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('paid_cash >= 0 AND paid_card >= 0', name=op.f('ck_revenue_days_paid_not_negative')),
    sa.CheckConstraint('payments >= 0', name=op.f('ck_revenue_days_payments_not_negative')),
    sa.CheckConstraint('refunded_cash >= 0 AND refunded_card >= 0', name=op.f('ck_revenue_days_refunded_not_negative')),
    sa.PrimaryKeyConstraint('store_id', 'business_day', name=op.f('pk_revenue_days')),
    schema='sale'
    )
    connection = op.get_bind()
    has_stores = connection.execute(sa.text("SELECT to_regclass('store.stores') IS NOT NULL")).scalar()
    zones = ("SELECT store_id, time_zone FROM store.stores" if has_stores
             else "SELECT NULL::integer AS store_id, NULL::varchar AS time_zone WHERE false")
    connection.execute(sa.text(f"""
        INSERT INTO sale.revenue_days (store_id, business_day, payments, paid_cash, paid_card, refunded_cash,
                                       refunded_card)
        SELECT moves.store_id, date(timezone(coalesce(z.time_zone, :default_zone), at)), sum(payments),
               sum(paid_cash), sum(paid_card), sum(refunded_cash), sum(refunded_card)
        FROM (
            SELECT s.store_id, s.completed_at AS at, 1 AS payments,
                   CASE WHEN s.payment_method = 'cash' THEN s.total_price ELSE 0 END AS paid_cash,
                   CASE WHEN s.payment_method = 'card' THEN s.total_price ELSE 0 END AS paid_card,
                   0 AS refunded_cash, 0 AS refunded_card
            FROM sale.sales s WHERE s.status = 'completed'
            UNION ALL
            SELECT r.store_id, r.created_at, 0, 0, 0,
                   CASE WHEN s.payment_method = 'cash' THEN r.amount ELSE 0 END,
                   CASE WHEN s.payment_method = 'card' THEN r.amount ELSE 0 END
            FROM sale.refunds r JOIN sale.sales s ON s.sale_id = r.sale_id
        ) moves
        LEFT JOIN ({zones}) z ON z.store_id = moves.store_id
        GROUP BY 1, 2
    """), {"default_zone": DEFAULT_TIME_ZONE})


def downgrade():
    op.drop_table('revenue_days', schema='sale')
