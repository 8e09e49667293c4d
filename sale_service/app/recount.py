"""The sale service's day aggregates, for `python -m salesync_common.recount`: the stores with sales, and how
to rebuild one store's refund item days and revenue days."""
from sqlalchemy import text

from . import refund_days, revenue_days

STORES = text("SELECT DISTINCT store_id FROM sale.sales ORDER BY store_id")
RECOUNTS = [refund_days.recount_store, revenue_days.recount_store]
