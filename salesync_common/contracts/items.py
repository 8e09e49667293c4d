"""What the item service answers other services."""
from __future__ import annotations

from pydantic import BaseModel, StrictBool, StrictInt, StrictStr

from . import Result


class OrderableItem(BaseModel):
    item_id: StrictInt
    name: StrictStr
    category_id: StrictInt
    price: StrictInt
    category_name: StrictStr


class OrderableItems(BaseModel):
    """GET /internal/items?ids=: the caller's enabled items in enabled categories among ids; the rest left out."""
    items: list[OrderableItem]


class CostEntry(BaseModel):
    effective_date: StrictStr  # YYYY-MM-DD, the first business day the cost counts
    cost: StrictInt


class ItemCosts(BaseModel):
    item_id: StrictInt
    name: StrictStr
    costs: list[CostEntry]  # effective_date ascending


class CostHistoryReport(BaseModel):
    """GET /internal/items/costs?start&end&ids=: the caller's items among ids (required, at most
    SALESYNC_MAX_ITEMS_PER_STORE of them), deleted ones too, with the cost in force on start and each change
    up to end; ids of other stores or of no item are left out."""
    items: list[ItemCosts]


class CostListItem(BaseModel):
    item_id: StrictInt
    name: StrictStr
    category_id: StrictInt
    price: StrictInt
    cost: StrictInt | None
    category_name: StrictStr


class CostList(Result):
    """GET /categories/items/costs: the enabled items with today's cost, by category then item
    (the BFF nests it by category for the cost page)."""
    items: list[CostListItem]


class MenuItemCosts(BaseModel):
    item_id: StrictInt
    name: StrictStr
    price: StrictInt
    on_menu: StrictBool  # enabled, in an enabled category
    costs: list[CostEntry]  # effective_date ascending: the one in force on start, then each change to end


class ConsultingMenu(BaseModel):
    """GET /internal/consulting/menu?start&end&ids= (the consulting worker only): the store's menu and the items
    among ids (deleted ones too), each with its cost history over start..end."""
    items: list[MenuItemCosts]
