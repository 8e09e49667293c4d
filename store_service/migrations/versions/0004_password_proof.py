"""A right password check by a token, which that token alone may spend on one password change; sign-ups
counted per client address.

Revision ID: 0004_password_proof
Revises: 0003_identity
Create Date: 2026-12-01 03:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_password_proof'
down_revision = '0003_identity'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'password_proofs',
        sa.Column('token_id', sa.String(length=64), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('proved_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('token_id', name=op.f('pk_password_proofs')),
        schema='store',
    )
    op.create_index('ix_password_proofs_store_id', 'password_proofs', ['store_id'], unique=False, schema='store')
    op.create_table(
        'sign_ups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('signed_up_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_ups')),
        schema='store',
    )
    op.create_index('ix_sign_ups_address_signed_up_at', 'sign_ups', ['address', 'signed_up_at'], unique=False,
                    schema='store')


def downgrade():
    op.drop_index('ix_sign_ups_address_signed_up_at', table_name='sign_ups', schema='store')
    op.drop_table('sign_ups', schema='store')
    op.drop_index('ix_password_proofs_store_id', table_name='password_proofs', schema='store')
    op.drop_table('password_proofs', schema='store')
