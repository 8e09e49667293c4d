"""Dead letters: records of a topic the consumer could not store, kept instead of stopping on them.

Revision ID: 0004_dead_letters
Revises: 0003_settlement_sms
Create Date: 2026-12-01 02:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_dead_letters'
down_revision = '0003_settlement_sms'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dead_letters',
    sa.Column('dead_letter_id', sa.BigInteger(), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.LargeBinary(), nullable=True),
    sa.Column('key_size', sa.Integer(), nullable=True),
    sa.Column('value', sa.LargeBinary(), nullable=True),
    sa.Column('value_size', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('dead_lettered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('dead_letter_id', name=op.f('pk_dead_letters')),
    schema='dashboard'
    )
    op.create_index('ix_dead_letters_position', 'dead_letters', ['topic', 'partition', 'offset'], unique=False,
                    schema='dashboard')


def downgrade():
    op.drop_index('ix_dead_letters_position', table_name='dead_letters', schema='dashboard')
    op.drop_table('dead_letters', schema='dashboard')
