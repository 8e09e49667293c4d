"""Consulting quotas and fair claiming: each job's turn in the round-robin across stores, the claim
order by turn, and an index of each store's unfinished jobs.

Revision ID: 0002_consulting_quotas
Revises: 0001
Create Date: 2026-12-01 02:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002_consulting_quotas'
down_revision = '0001'
branch_labels = None
depends_on = None

UNFINISHED = sa.text("status IN ('pending', 'running')")


def upgrade():
    # Jobs already queued keep their order among themselves: all start at turn 0, then oldest first.
    op.add_column('consulting_jobs', sa.Column('turn', sa.BigInteger(), server_default='0', nullable=False),
                  schema='consulting')
    op.create_check_constraint(op.f('ck_consulting_jobs_turn_not_negative'), 'consulting_jobs', 'turn >= 0',
                               schema='consulting')
    op.drop_index('ix_consulting_jobs_unfinished', table_name='consulting_jobs', schema='consulting',
                  postgresql_where=UNFINISHED)
    op.create_index('ix_consulting_jobs_claim_order', 'consulting_jobs', ['turn', 'created_at', 'req_id'], unique=False,
                    schema='consulting', postgresql_where=UNFINISHED)
    op.create_index('ix_consulting_jobs_store_unfinished', 'consulting_jobs', ['store_id', 'turn'], unique=False,
                    schema='consulting', postgresql_where=UNFINISHED)


def downgrade():
    op.drop_index('ix_consulting_jobs_store_unfinished', table_name='consulting_jobs', schema='consulting',
                  postgresql_where=UNFINISHED)
    op.drop_index('ix_consulting_jobs_claim_order', table_name='consulting_jobs', schema='consulting',
                  postgresql_where=UNFINISHED)
    op.create_index('ix_consulting_jobs_unfinished', 'consulting_jobs', ['created_at'], unique=False,
                    schema='consulting', postgresql_where=UNFINISHED)
    op.drop_constraint(op.f('ck_consulting_jobs_turn_not_negative'), 'consulting_jobs', type_='check',
                       schema='consulting')
    op.drop_column('consulting_jobs', 'turn', schema='consulting')
