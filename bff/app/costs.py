"""The cost page (API.md §8.1): the item service's costs nested by category for the screen, and back as flat lines."""
from __future__ import annotations

import dataclasses
import re
from http import HTTPStatus

from salesync_common.contracts.items import CostList, CostListItem
from salesync_common.errors import ValidationFailed
from salesync_common.service_client import ServiceClient, ServiceReply

from .schemas import CostsForm

ITEM_COSTS = "/categories/items/costs"
COST_PAGE = "/categories/items/costs/by-category"
_FLAT_FIELD = re.compile(r"^items\.(?P<index>[0-9]+)(?P<rest>\..*)?$")


def load_costs(*, client: ServiceClient) -> ServiceReply:
    """The item service writes the nested page itself; its JSON goes to the browser as it came."""
    reply = client.get("item", COST_PAGE, relay=True)
    if reply.status != HTTPStatus.NOT_FOUND:
        return reply
    # An item service older than the nested page (each service is rolled out, and back, on its own): the
    # flat list every version has, nested here. To go once no item service before the nested page runs.
    flat = client.get("item", ITEM_COSTS)
    if not flat.ok:
        return flat
    return dataclasses.replace(flat, body={"result": "success", "message": "원가 조회 성공",
                                           "items": by_category(flat.parsed(CostList).items)})


def by_category(flat: list[CostListItem]) -> list[dict]:
    """Group the flat list (ordered by category, then item) by category, keeping that order."""
    groups: dict[int, dict] = {}
    for item in flat:
        group = groups.setdefault(item.category_id, {
            "category_id": item.category_id, "category_name": item.category_name, "items": []})
        group["items"].append({"item_id": item.item_id, "name": item.name, "price": item.price, "cost": item.cost})
    return list(groups.values())


def cost_lines(form: CostsForm) -> tuple[list[dict], list[str]]:
    """The flat {item_id, cost} lines, and for each line where it sat in the nested body."""
    lines, places, seen = [], [], set()
    for i, category in enumerate(form.items):
        for j, item in enumerate(category.items):
            place = f"items.{i}.items.{j}"
            if item.item_id in seen:
                field = f"{place}.item_id"
                raise ValidationFailed(f"{field}: each item_id may appear only once", field=field)
            seen.add(item.item_id)
            lines.append({"item_id": item.item_id, "cost": item.cost})
            places.append(place)
    return lines, places


def save_costs(*, client: ServiceClient, form: CostsForm) -> ServiceReply:
    """Send every cost in one call: the item service saves all of them or, on any error, none."""
    lines, places = cost_lines(form)
    body = {"items": lines}
    if form.effective_date is not None:
        body["effective_date"] = form.effective_date
    reply = client.post("item", ITEM_COSTS, json=body)
    if reply.ok or not isinstance(reply.body, dict):
        return reply
    return dataclasses.replace(reply, body=nested_error(reply.body, places))


def nested_error(body: dict, places: list[str]) -> dict:
    """Name the field of an error about flat line k (items.k.cost) by its place in the nested body."""
    field = body.get("field")
    match = _FLAT_FIELD.match(field) if isinstance(field, str) else None
    if match is None or int(match["index"]) >= len(places):
        return body
    nested = places[int(match["index"])] + (match["rest"] or "")
    return {**body, "field": nested, "message": str(body.get("message", "")).replace(field, nested, 1)}
