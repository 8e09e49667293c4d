"""Category and item names in Unicode normal form C, as the service now stores and compares them.

A name stored decomposed before (sent by a client that types NFD) would otherwise sit beside its
composed twin: the duplicate-name check and the unique index compare the normalised form. A row
whose composed name another enabled row of its store already holds, or which would outgrow its
column, is left as it is (its name still shows; only the look-alike stays).

Revision ID: 0002_surface
Revises: 0001
Create Date: 2026-12-01 02:45:00
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0002_surface'
down_revision = '0001'
branch_labels = None
depends_on = None

# (table, key column, name column length)
TABLES = (("categories", "category_id", 50), ("items", "item_id", 100))


def upgrade():
    bind = op.get_bind()
    for table, key, length in TABLES:
        # Only a name with a character outside printable ASCII can change.
        rows = bind.execute(sa.text(
            f"SELECT {key} AS id, store_id, name, enabled FROM item.{table} WHERE name ~ '[^ -~]' ORDER BY {key}"))
        for row in rows.all():
            composed = unicodedata.normalize("NFC", row.name)
            if composed == row.name or len(composed) > length:
                continue
            if row.enabled and bind.execute(sa.text(
                    f"SELECT 1 FROM item.{table} WHERE store_id = :store_id AND name = :name AND enabled "
                    f"AND {key} <> :id"), {"store_id": row.store_id, "name": composed, "id": row.id}).first():
                continue
            bind.execute(sa.text(f"UPDATE item.{table} SET name = :name WHERE {key} = :id"),
                         {"name": composed, "id": row.id})


def downgrade():
    # Normal form C is a valid name for the earlier code too: nothing to undo.
    pass
