"""Stores (accounts) and failed logins for the login throttle.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 21:51:48.071900
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    schema='store'
    )
    op.create_index('ix_login_failures_username_failed_at', 'login_failures', ['username', 'failed_at'], unique=False, schema='store')
    op.create_table('stores',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=100), nullable=False),
    sa.Column('owner_name', sa.String(length=20), nullable=False),
    sa.Column('phone', sa.String(length=11), nullable=False),
    sa.Column('store_name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('store_type', sa.String(length=20), nullable=False),
    sa.Column('time_zone', sa.String(length=64), server_default='Asia/Seoul', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("phone ~ '^[0-9]{11}$'", name=op.f('ck_stores_phone_11_digits')),
    sa.CheckConstraint("username ~ '^[A-Za-z0-9]{8,16}$'", name=op.f('ck_stores_username_format')),
    sa.CheckConstraint('char_length(address) BETWEEN 1 AND 200', name=op.f('ck_stores_address_length')),
    sa.CheckConstraint('char_length(store_name) BETWEEN 1 AND 100', name=op.f('ck_stores_store_name_length')),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_stores')),
    sa.UniqueConstraint('username', name=op.f('uq_stores_username')),
    schema='store'
    )


def downgrade():
    op.drop_table('stores', schema='store')
    op.drop_index('ix_login_failures_username_failed_at', table_name='login_failures', schema='store')
    op.drop_table('login_failures', schema='store')
