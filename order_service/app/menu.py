"""Menu items from the item service: one call for all the items of an order, never one per item."""
from __future__ import annotations

import dataclasses

from salesync_common.contracts.items import OrderableItems
from salesync_common.errors import NotFound
from salesync_common.service_client import service_client


@dataclasses.dataclass(frozen=True)
class MenuItem:
    item_id: int
    name: str
    price: int


def fetch_menu_items(item_ids: list[int]) -> dict[int, MenuItem]:
    """The caller's orderable items by id; an id that is unknown, deleted or another store's is a 404."""
    if not item_ids:
        return {}
    reply = service_client().get("item", "/internal/items", params={"ids": ",".join(map(str, sorted(item_ids)))})
    orderable = reply.parsed(OrderableItems, error="menu_lookup_failed", message="menu lookup failed")
    found = {item.item_id: MenuItem(item.item_id, item.name, item.price) for item in orderable.items}
    missing = sorted(set(item_ids) - found.keys())
    if missing:
        raise NotFound("존재하지 않는 품목이 있습니다.", error="item_not_found", field="carts", item_ids=missing)
    return found
