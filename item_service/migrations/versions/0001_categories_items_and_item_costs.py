"""Categories, menu items and the history of item costs.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 22:04:28.455537
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('categories',
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('char_length(name) >= 1', name=op.f('ck_categories_name_not_empty')),
    sa.PrimaryKeyConstraint('category_id', name=op.f('pk_categories')),
    sa.UniqueConstraint('category_id', 'store_id', name=op.f('uq_categories_category_id_store_id')),
    schema='item'
    )
    op.create_index('uq_categories_store_id_name_enabled', 'categories', ['store_id', 'name'], unique=True, schema='item', postgresql_where=sa.text('enabled'))
    op.create_table('items',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('char_length(name) >= 1', name=op.f('ck_items_name_not_empty')),
    sa.CheckConstraint('price >= 0 AND price <= 100000000', name=op.f('ck_items_price_range')),
    sa.ForeignKeyConstraint(['category_id', 'store_id'], ['item.categories.category_id', 'item.categories.store_id'], name=op.f('fk_items_category_id_categories')),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_items')),
    sa.UniqueConstraint('item_id', 'store_id', name=op.f('uq_items_item_id_store_id')),
    schema='item'
    )
    op.create_index('ix_items_category_id', 'items', ['category_id'], unique=False, schema='item')
    op.create_index('ix_items_store_id', 'items', ['store_id'], unique=False, schema='item')
    op.create_index('uq_items_store_id_name_enabled', 'items', ['store_id', 'name'], unique=True, schema='item', postgresql_where=sa.text('enabled'))
    op.create_table('item_costs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('cost >= 0 AND cost <= 100000000', name=op.f('ck_item_costs_cost_range')),
    sa.ForeignKeyConstraint(['item_id', 'store_id'], ['item.items.item_id', 'item.items.store_id'], name=op.f('fk_item_costs_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_costs')),
    sa.UniqueConstraint('item_id', 'effective_date', name=op.f('uq_item_costs_item_id_effective_date')),
    schema='item'
    )
    op.create_index('ix_item_costs_store_id_effective_date', 'item_costs', ['store_id', 'effective_date'], unique=False, schema='item')


def downgrade():
    op.drop_index('ix_item_costs_store_id_effective_date', table_name='item_costs', schema='item')
    op.drop_table('item_costs', schema='item')
    op.drop_index('uq_items_store_id_name_enabled', table_name='items', schema='item', postgresql_where=sa.text('enabled'))
    op.drop_index('ix_items_store_id', table_name='items', schema='item')
    op.drop_index('ix_items_category_id', table_name='items', schema='item')
    op.drop_table('items', schema='item')
    op.drop_index('uq_categories_store_id_name_enabled', table_name='categories', schema='item', postgresql_where=sa.text('enabled'))
    op.drop_table('categories', schema='item')
