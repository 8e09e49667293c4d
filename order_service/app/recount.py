"""The order service's day aggregates, for `python -m salesync_common.recount`: the stores with paid orders,
and how to rebuild one store's item days."""
from sqlalchemy import text

from . import item_days

STORES = text("""SELECT DISTINCT store_id FROM "order".orders WHERE status = 'paid' ORDER BY store_id""")
RECOUNTS = [item_days.recount_store]
