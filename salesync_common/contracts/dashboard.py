"""What the dashboard answers other services: the sales report the consulting service and the BFF read."""
from __future__ import annotations

from pydantic import BaseModel, StrictBool, StrictInt, StrictStr

from . import Id, Result


class ItemSales(BaseModel):
    item_id: Id
    name: StrictStr
    quantity: StrictInt
    sales_volume: StrictInt
    profit: StrictInt
    # True when some of the item's sales had no cost in force: its profit then counts that cost as 0.
    cost_missing: StrictBool


class SalesReport(Result):
    """The pie chart reads items[].name, .sales_volume and .profit."""
    start_date: StrictStr
    end_date: StrictStr
    sales_volume: StrictInt
    items: list[ItemSales]
