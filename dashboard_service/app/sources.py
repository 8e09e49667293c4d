"""What the dashboard reads from the other services, with the caller's token: one call per figure,
whatever the length of the period (each service aggregates by the store's business day itself).

Item figures are the paid order lines (order service) minus the lines refunds took back (sale service),
each on its business day: a refund's lines leave the day of the refund, the day its revenue falls.

Each reply is parsed with its contract model (salesync_common.contracts): a 4xx is passed on as it is,
a body of the wrong shape is a 502.
"""
from __future__ import annotations

import datetime
import logging

from flask import current_app

from salesync_common.contracts.items import CostHistoryReport
from salesync_common.contracts.orders import ItemDayReport, ItemDaySeries
from salesync_common.contracts.sales import DailyRevenue, PeriodRevenue, RefundItemDayLine, RefundItemDayReport
from salesync_common.contracts.stores import StoreCard
from salesync_common.errors import UpstreamError
from salesync_common.service_client import ServiceClient

from .reports import CostHistory, Sold

log = logging.getLogger(__name__)

# gunicorn refuses a request line over 4,094 bytes: the ids of one call stay well under it.
MAX_IDS_CHARS = 3000


def _period(start: datetime.date, end: datetime.date) -> dict:
    return {"start": start.isoformat(), "end": end.isoformat()}


def paid_items(*, client: ServiceClient, start: datetime.date, end: datetime.date) -> list[ItemDaySeries]:
    """Paid order lines per item, by business day counted from start (contracts.orders.ItemDayReport).

    A reply for another period, or with a day past its end, is a 502 like any reply of the wrong shape."""
    reply = client.get("order", "/internal/reports/item-days", params=_period(start, end))
    report = reply.parsed(ItemDayReport)
    last_day = (end - start).days
    if report.start != start.isoformat() or any(series.days and series.days[-1] > last_day
                                                for series in report.items):
        log.warning("the order service sent an item-day report outside %s..%s", start, end)
        raise UpstreamError("the order service sent a reply of an unexpected shape", error="upstream_bad_reply",
                            service="order")
    return report.items


def refunds(*, client: ServiceClient, start: datetime.date, end: datetime.date) -> list[RefundItemDayLine]:
    """What the refunds of the period took back (positive), on the business day of each refund, with sold_on,
    the day of the sale whose cost the refund takes back."""
    reply = client.get("sale", "/internal/reports/refund-item-days", params=_period(start, end))
    return reply.parsed(RefundItemDayReport).lines


def sold_in(*, client: ServiceClient, start: datetime.date, end: datetime.date) -> Sold:
    """Paid lines and refunded lines of the period, one call after the other (for a caller not in a hurry)."""
    return Sold(start, paid_items(client=client, start=start, end=end), refunds(client=client, start=start, end=end))


def costs_of(*, client: ServiceClient, sold: Sold, end: datetime.date) -> CostHistory:
    """The cost history what was sold needs, in one call once it is known: only the items sold or refunded
    (never the store's other or deleted items), from the period's start or, when a refund of the period takes
    back a sale made before it, from that sale's day. Nothing sold, no call."""
    item_ids = sold.item_ids()
    if not item_ids:
        return CostHistory([])
    return cost_history(client=client, start=sold.earliest_cost_day(), end=end, item_ids=item_ids)


def cost_history(*, client: ServiceClient, start: datetime.date, end: datetime.date,
                 item_ids: list[int]) -> CostHistory:
    """The cost history of item_ids over start..end: one call, or one per batch of ids when they do not fit
    one request line (more ids than the item service takes at once, or a query string too long)."""
    limit = current_app.extensions["salesync_settings"].max_items_per_store
    items = []
    for batch in id_batches(item_ids, max_ids=limit, max_chars=MAX_IDS_CHARS):
        reply = client.get("item", "/internal/items/costs", params={**_period(start, end), "ids": batch})
        items += [item.model_dump(include={"item_id", "costs"}) for item in reply.parsed(CostHistoryReport).items]
    try:
        return CostHistory(items)
    except ValueError:
        log.warning("the item service sent a cost history with a date that is not YYYY-MM-DD")
        raise UpstreamError("the item service sent a reply of an unexpected shape", error="upstream_bad_reply",
                            service="item") from None


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
