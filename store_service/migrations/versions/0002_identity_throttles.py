"""Failed logins by client address too; wrong answers to the password check, per store and address.

Revision ID: 0002_identity
Revises: 0001
Create Date: 2026-12-01 02:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_identity'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('login_failures', sa.Column('address', sa.String(length=64), server_default='', nullable=False),
                  schema='store')
    op.create_index('ix_login_failures_address_failed_at', 'login_failures', ['address', 'failed_at'], unique=False,
                    schema='store')
    op.create_table('password_check_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_check_failures')),
    schema='store'
    )
    op.create_index('ix_password_check_failures_store_address', 'password_check_failures',
                    ['store_id', 'address', 'failed_at'], unique=False, schema='store')


def downgrade():
    op.drop_index('ix_password_check_failures_store_address', table_name='password_check_failures', schema='store')
    op.drop_table('password_check_failures', schema='store')
    op.drop_index('ix_login_failures_address_failed_at', table_name='login_failures', schema='store')
    op.drop_column('login_failures', 'address', schema='store')
