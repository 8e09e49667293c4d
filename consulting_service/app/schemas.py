"""What the consulting service reads: the dashboard's sales report of a period (API.md §6.2)."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr


class ItemSales(BaseModel):
    item_id: StrictInt
    name: StrictStr
    quantity: Annotated[StrictInt, Field(ge=0)]
    sales_volume: StrictInt
    profit: StrictInt
    # True when some of the item's sales had no cost in force: its profit then counts that cost as 0.
    cost_missing: StrictBool = False


class SalesReport(BaseModel):
    sales_volume: StrictInt
    items: list[ItemSales]
