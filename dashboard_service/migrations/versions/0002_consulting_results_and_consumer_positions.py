"""Consulting results consumed from Kafka, and the consumer's position per partition.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:35:22.523044
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consulting_results',
    sa.Column('req_id', sa.Uuid(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('consulting', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('req_id', name=op.f('pk_consulting_results')),
    schema='dashboard'
    )
    op.create_index(op.f('ix_consulting_results_store_id'), 'consulting_results', ['store_id'], unique=False, schema='dashboard')
    op.create_table('consumer_positions',
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('next_offset', sa.BigInteger(), nullable=False),
    sa.Column('last_key', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('topic', 'partition', name=op.f('pk_consumer_positions')),
    schema='dashboard'
    )


def downgrade():
    op.drop_table('consumer_positions', schema='dashboard')
    op.drop_index(op.f('ix_consulting_results_store_id'), table_name='consulting_results', schema='dashboard')
    op.drop_table('consulting_results', schema='dashboard')
