"""The figures each piece of advice was written from, and a third source of advice: the rules standing in
for a model whose answer could not be used ("fallback").

Revision ID: 0003_consulting_figures
Revises: 0002_consulting_quotas
Create Date: 2026-12-01 05:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003_consulting_figures'
down_revision = '0002_consulting_quotas'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('consulting_jobs', sa.Column('figures', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
                  schema='consulting')
    op.drop_constraint(op.f('ck_consulting_jobs_source_known'), 'consulting_jobs', type_='check', schema='consulting')
    op.create_check_constraint(op.f('ck_consulting_jobs_source_known'), 'consulting_jobs',
                               "source IS NULL OR source IN ('openai', 'rule_based', 'fallback')", schema='consulting')


def downgrade():
    # Advice the rules wrote for the model reads as rule-based advice once the third source is gone.
    op.execute("UPDATE consulting.consulting_jobs SET source = 'rule_based' WHERE source = 'fallback'")
    op.drop_constraint(op.f('ck_consulting_jobs_source_known'), 'consulting_jobs', type_='check', schema='consulting')
    op.create_check_constraint(op.f('ck_consulting_jobs_source_known'), 'consulting_jobs',
                               "source IS NULL OR source IN ('openai', 'rule_based')", schema='consulting')
    op.drop_column('consulting_jobs', 'figures', schema='consulting')
