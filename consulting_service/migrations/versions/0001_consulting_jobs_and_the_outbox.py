"""Consulting jobs (claimed with a lease) and the outbox of their Kafka messages.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 22:34:56.487607
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consulting_jobs',
    sa.Column('req_id', sa.UUID(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=True),
    sa.Column('consulting', sa.Text(), nullable=True),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'running') = (lease_until IS NOT NULL)", name=op.f('ck_consulting_jobs_running_has_lease')),
    sa.CheckConstraint("(status IN ('success', 'failed')) = (finished_at IS NOT NULL)", name=op.f('ck_consulting_jobs_finished_has_time')),
    sa.CheckConstraint("source IS NULL OR source IN ('openai', 'rule_based')", name=op.f('ck_consulting_jobs_source_known')),
    sa.CheckConstraint("status <> 'failed' OR failure_reason IS NOT NULL", name=op.f('ck_consulting_jobs_failed_has_reason')),
    sa.CheckConstraint("status <> 'success' OR (consulting IS NOT NULL AND source IS NOT NULL)", name=op.f('ck_consulting_jobs_success_has_consulting')),
    sa.CheckConstraint("status IN ('pending', 'running', 'success', 'failed')", name=op.f('ck_consulting_jobs_status_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_consulting_jobs_attempts_not_negative')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_consulting_jobs_period_in_order')),
    sa.PrimaryKeyConstraint('req_id', name=op.f('pk_consulting_jobs')),
    schema='consulting'
    )
    op.create_index('ix_consulting_jobs_store_created_at', 'consulting_jobs', ['store_id', 'created_at'], unique=False, schema='consulting')
    op.create_index('ix_consulting_jobs_unfinished', 'consulting_jobs', ['created_at'], unique=False, schema='consulting', postgresql_where=sa.text("status IN ('pending', 'running')"))
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('message_key', sa.String(length=100), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_attempts_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    schema='consulting'
    )
    op.create_index('uq_outbox_topic_message_key', 'outbox', ['topic', 'message_key'], unique=True, schema='consulting')
    op.create_index('ix_outbox_unsent', 'outbox', ['id'], unique=False, schema='consulting', postgresql_where=sa.text('sent_at IS NULL'))


def downgrade():
    op.drop_index('ix_outbox_unsent', table_name='outbox', schema='consulting', postgresql_where=sa.text('sent_at IS NULL'))
    op.drop_index('uq_outbox_topic_message_key', table_name='outbox', schema='consulting')
    op.drop_table('outbox', schema='consulting')
    op.drop_index('ix_consulting_jobs_unfinished', table_name='consulting_jobs', schema='consulting', postgresql_where=sa.text("status IN ('pending', 'running')"))
    op.drop_index('ix_consulting_jobs_store_created_at', table_name='consulting_jobs', schema='consulting')
    op.drop_table('consulting_jobs', schema='consulting')
