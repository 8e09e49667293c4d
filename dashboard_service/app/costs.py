"""Item costs, kept by the item service: the dashboard forwards the caller's request with its token
and passes the item service's answer on (its 4xx included; 5xx and transport failures are 502/503/504).
The item service owns the cost rules, so the body is checked there, once."""
from __future__ import annotations

from salesync_common.service_client import ServiceClient, ServiceReply

PATH = "/categories/items/costs"


def list_costs(*, client: ServiceClient) -> ServiceReply:
    return client.get("item", PATH)


def set_costs(*, client: ServiceClient, body: dict) -> ServiceReply:
    return client.post("item", PATH, json=body)


def set_cost(*, client: ServiceClient, item_id: int, body: dict) -> ServiceReply:
    return client.put("item", f"{PATH}/{item_id}", json=body)
