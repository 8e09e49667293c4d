"""The token that last changed a store's password: every other token issued before the change is ended.

Revision ID: 0003_identity
Revises: 0002_identity
Create Date: 2026-12-01 03:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_identity'
down_revision = '0002_identity'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('stores', sa.Column('password_changed_by', sa.String(length=64), nullable=True), schema='store')


def downgrade():
    op.drop_column('stores', 'password_changed_by', schema='store')
