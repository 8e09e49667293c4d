"""What the dashboard reads from the other services, with the caller's token: one call per figure,
whatever the length of the period (each service aggregates by the store's business day itself).

Item figures are the paid order lines (order service) minus the lines refunds took back (sale service),
each on its business day: a refund's lines leave the day of the refund, the day its revenue falls.

Each reply is parsed with its contract model (salesync_common.contracts): a 4xx is passed on as it is,
a body of the wrong shape is a 502.
"""
from __future__ import annotations

import datetime

from flask import current_app

from salesync_common.contracts.items import CostHistoryReport
from salesync_common.contracts.orders import ItemDayReport
from salesync_common.contracts.sales import DailyRevenue, PeriodRevenue, RefundItemDayReport
from salesync_common.contracts.stores import StoreCard
from salesync_common.service_client import ServiceClient

from .reports import CostHistory, earliest_cost_day

# gunicorn refuses a request line over 4,094 bytes: the ids of one call stay well under it.
MAX_IDS_CHARS = 3000


def _period(start: datetime.date, end: datetime.date) -> dict:
    return {"start": start.isoformat(), "end": end.isoformat()}


def paid_lines(*, client: ServiceClient, start: datetime.date, end: datetime.date) -> list[dict]:
    """Paid order lines per business day and item: date, item_id, name, quantity, sales_volume."""
    reply = client.get("order", "/internal/reports/item-days", params=_period(start, end))
    # One dump of the whole report: a year is some 15,000 lines, and a call per line costs several times more.
    return reply.parsed(ItemDayReport).model_dump()["lines"]


def refunded_lines(*, client: ServiceClient, start: datetime.date, end: datetime.date) -> list[dict]:
    """What the refunds of the period took back, as negative lines on the business day of each refund:
    date, sold_on (the day of the sale, whose cost the refund takes back), item_id, name, quantity,
    sales_volume."""
    reply = client.get("sale", "/internal/reports/refund-item-days", params=_period(start, end))
    return [{**line.model_dump(), "quantity": -line.quantity, "sales_volume": -line.sales_volume}
            for line in reply.parsed(RefundItemDayReport).lines]


def item_lines(*, client: ServiceClient, start: datetime.date, end: datetime.date) -> list[dict]:
    """Paid lines and refunded lines of the period, one after the other (for a caller not in a hurry)."""
    return paid_lines(client=client, start=start, end=end) + refunded_lines(client=client, start=start, end=end)


def costs_of(*, client: ServiceClient, lines: list[dict], start: datetime.date, end: datetime.date) -> CostHistory:
    """The cost history the lines need, in one call once they are known: only the items they sell or refund
    (never the store's other or deleted items), from start or, when a refund of the period takes back a sale
    made before start, from that sale's day. No lines, no call."""
    item_ids = sorted({line["item_id"] for line in lines})
    if not item_ids:
        return CostHistory([])
    return cost_history(client=client, start=earliest_cost_day(lines, start), end=end, item_ids=item_ids)


def cost_history(*, client: ServiceClient, start: datetime.date, end: datetime.date,
                 item_ids: list[int]) -> CostHistory:
    """The cost history of item_ids over start..end: one call, or one per batch of ids when they do not fit
    one request line (more ids than the item service takes at once, or a query string too long)."""
    limit = current_app.extensions["salesync_settings"].max_items_per_store
    items = []
    for batch in id_batches(item_ids, max_ids=limit, max_chars=MAX_IDS_CHARS):
        reply = client.get("item", "/internal/items/costs", params={**_period(start, end), "ids": batch})
        items += [item.model_dump(include={"item_id", "costs"}) for item in reply.parsed(CostHistoryReport).items]
    return CostHistory(items)


def id_batches(item_ids: list[int], *, max_ids: int, max_chars: int) -> list[str]:
    """item_ids as comma-separated strings of at most max_ids ids and max_chars characters each."""
    batches: list[list[str]] = [[]]
    length = 0
    for text in map(str, item_ids):
        batch = batches[-1]
        if batch and (len(batch) >= max_ids or length + 1 + len(text) > max_chars):
            batches.append([])
            batch, length = batches[-1], 0
        length += len(text) + (1 if batch else 0)
        batch.append(text)
    return [",".join(batch) for batch in batches if batch]


def revenue_of_period(*, client: ServiceClient, start: datetime.date, end: datetime.date) -> int:
    """Payments minus refunds over the period."""
    reply = client.get("sale", "/sales/period", params=_period(start, end))
    return reply.parsed(PeriodRevenue).sales_volume


def revenue_of_day(*, client: ServiceClient, day: datetime.date) -> dict:
    """Revenue of one business day: sales_volume, payments, refunds, cash_total, card_total."""
    reply = client.get("sale", "/sales/daily", params={"date": day.isoformat()})
    return reply.parsed(DailyRevenue).model_dump(
        include={"sales_volume", "payments", "refunds", "cash_total", "card_total"})


def my_store(*, client: ServiceClient) -> dict:
    """The caller's store: store_name, phone, time_zone (a ZoneInfo)."""
    store = client.get("store", "/internal/stores/me").parsed(StoreCard)
    return {"store_name": store.store_name, "phone": store.phone, "time_zone": store.zone}
