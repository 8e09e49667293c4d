"""What the dashboard reads from the other services, with the caller's token: one call per figure,
whatever the length of the period (each service aggregates by the store's business day itself)."""
from __future__ import annotations

import datetime
import zoneinfo
from typing import Callable, TypeVar

from salesync_common.business_day import DEFAULT_TIME_ZONE
from salesync_common.errors import ApiError, UpstreamError
from salesync_common.service_client import ServiceClient, ServiceReply

from .reports import CostHistory

T = TypeVar("T")


def _read(reply: ServiceReply, service: str, read: Callable[[dict], T]) -> T:
    """The reply's body as read(); a 4xx is passed on as it is, a body of the wrong shape is a 502."""
    body = reply.body if isinstance(reply.body, dict) else {}
    if not reply.ok:
        raise ApiError(str(body.get("message") or f"the {service} service answered {reply.status}"),
                       status=reply.status, error=str(body.get("error") or f"{service}_failed"))
    try:
        return read(body)
    except (KeyError, TypeError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        raise UpstreamError(f"the {service} service sent a reply of an unexpected shape",
                            error="upstream_bad_reply", service=service) from None


def _period(start: datetime.date, end: datetime.date) -> dict:
    return {"start": start.isoformat(), "end": end.isoformat()}


def paid_lines(*, client: ServiceClient, start: datetime.date, end: datetime.date) -> list[dict]:
    """Paid order lines per business day and item: date, item_id, name, quantity, sales_volume."""
    reply = client.get("order", "/internal/reports/item-days", params=_period(start, end))
    return _read(reply, "order", lambda body: [
        {"date": str(line["date"]), "item_id": int(line["item_id"]), "name": str(line["name"]),
         "quantity": int(line["quantity"]), "sales_volume": int(line["sales_volume"])}
        for line in body["lines"]])


def cost_history(*, client: ServiceClient, start: datetime.date, end: datetime.date) -> CostHistory:
    reply = client.get("item", "/internal/items/costs", params=_period(start, end))
    return _read(reply, "item", lambda body: CostHistory([
        {"item_id": int(item["item_id"]),
         "costs": [{"effective_date": str(entry["effective_date"]), "cost": int(entry["cost"])}
                   for entry in item["costs"]]}
        for item in body["items"]]))


def revenue_of_period(*, client: ServiceClient, start: datetime.date, end: datetime.date) -> int:
    """Payments minus refunds over the period."""
    reply = client.get("sale", "/sales/period", params=_period(start, end))
    return _read(reply, "sale", lambda body: int(body["sales_volume"]))


def revenue_of_day(*, client: ServiceClient, day: datetime.date) -> dict:
    """Revenue of one business day: sales_volume, payments, refunds, cash_total, card_total."""
    reply = client.get("sale", "/sales/daily", params={"date": day.isoformat()})
    keys = ("sales_volume", "payments", "refunds", "cash_total", "card_total")
    return _read(reply, "sale", lambda body: {key: int(body[key]) for key in keys})


def my_store(*, client: ServiceClient) -> dict:
    """The caller's store: store_name, phone, time_zone (a ZoneInfo)."""
    reply = client.get("store", "/internal/stores/me")
    return _read(reply, "store", lambda body: {
        "store_name": str(body["store_name"]), "phone": str(body.get("phone") or ""),
        "time_zone": zoneinfo.ZoneInfo(body.get("time_zone") or DEFAULT_TIME_ZONE)})
