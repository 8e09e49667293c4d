"""Settlements: one row per settlement press, at most one first SMS per business day

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 22:27:34.052118
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('settlements',
    sa.Column('settlement_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('figures', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('resend', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('sns_message_id', sa.String(length=100), nullable=True),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(channel = 'recorded') = (status = 'recorded')", name=op.f('ck_settlements_recorded_only_by_recording')),
    sa.CheckConstraint("channel IN ('sms', 'recorded')", name=op.f('ck_settlements_channel_known')),
    sa.CheckConstraint("status <> 'failed' OR failure_reason IS NOT NULL", name=op.f('ck_settlements_failed_has_reason')),
    sa.CheckConstraint("status <> 'sent' OR sns_message_id IS NOT NULL", name=op.f('ck_settlements_sent_has_message_id')),
    sa.CheckConstraint("status IN ('sending', 'sent', 'recorded', 'failed')", name=op.f('ck_settlements_status_known')),
    sa.PrimaryKeyConstraint('settlement_id', name=op.f('pk_settlements')),
    schema='dashboard'
    )
    op.create_index('ix_settlements_store_date', 'settlements', ['store_id', 'business_date'], unique=False, schema='dashboard')
    op.create_index('uq_settlements_one_sms_per_day', 'settlements', ['store_id', 'business_date'], unique=True, schema='dashboard', postgresql_where=sa.text("status IN ('sending', 'sent') AND NOT resend"))


def downgrade():
    op.drop_index('uq_settlements_one_sms_per_day', table_name='settlements', schema='dashboard', postgresql_where=sa.text("status IN ('sending', 'sent') AND NOT resend"))
    op.drop_index('ix_settlements_store_date', table_name='settlements', schema='dashboard')
    op.drop_table('settlements', schema='dashboard')
