"""A period's figures, computed from the store's own data: three calls for the whole job, then arithmetic.

The worker has no caller's token, so it re-issues a short-lived one for the job's store (Decision 1) and
reads, with it, the sale service (the payments of the period and of the one before it, and the lines the
period's refunds took back), the order service (the period's paid lines per day and item, and its paid
orders by weekday and hour) and the item service (the menu and the cost history of what was sold). The
figures hold item names and amounts only: nothing that names the store or its owner, because they are sent
to the model as they are.

Menu engineering (Kasavana–Smith): an item is popular when its share of the items sold is at least 70% of an
equal share (0.7 / number of items sold), profitable when its unit margin is at least the average unit
margin weighted by quantity. An item without a cost on some day of its sales is listed apart, unclassified;
an item whose refunds took back as much as the period sold (net quantity 0 or less) is not among the items
sold, though its refunds count in the totals.
"""
from __future__ import annotations

import bisect
import collections
import dataclasses
import datetime

from salesync_common.business_day import previous_period
from salesync_common.contracts.items import ConsultingMenu
from salesync_common.contracts.orders import ConsultingOrderSummary
from salesync_common.contracts.sales import ConsultingSaleSummary
from salesync_common.errors import ApiError, UpstreamError
from salesync_common.service_client import ServiceClient, call_in_parallel
from salesync_common.tokens import issue_token

TOKEN_SECONDS = 60
POPULAR_SHARE = 0.7
STAR, PLOWHORSE, PUZZLE, DOG = "Star", "Plowhorse", "Puzzle", "Dog"
# Hours around the busiest ones: the three best by revenue, and those of the trading day with at most
# this share of the busiest hour's orders.
PEAK_HOURS = 3
EMPTY_HOUR_SHARE = 0.1
WEEKDAYS = ("월", "화", "수", "목", "금", "토", "일")


class ReportUnavailable(Exception):
    """The figures of the period could not be read; reason says why, for the store owner.

    transient: a service could not be reached or failed (it may be restarting), so asking again later may
    succeed; a 4xx or a reply of the wrong shape will not change by waiting.
    """

    def __init__(self, reason: str, *, transient: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


@dataclasses.dataclass(frozen=True)
class StoreData:
    """What the three calls answered."""
    sales: ConsultingSaleSummary
    orders: ConsultingOrderSummary
    menu: ConsultingMenu
    costs_from: datetime.date  # the first day of the cost history read


SERVICE_NAMES = {"sale": "결제", "order": "주문", "item": "메뉴"}


def _read(client: ServiceClient, service: str, path: str, model, *, params: dict, token: str):
    label = SERVICE_NAMES[service]
    try:
        reply = client.get(service, path, params=params, token=token)
    except UpstreamError as exc:
        raise ReportUnavailable(f"매출 조회 실패: {label} 서비스 응답 없음 ({exc.status})", transient=True) from None
    try:
        return reply.parsed(model, message=f"{label} 서비스 오류")
    except UpstreamError:  # a 2xx of the wrong shape
        raise ReportUnavailable(f"매출 조회 실패: {label} 서비스 응답 형식이 올바르지 않습니다") from None
    except ApiError as exc:  # a 4xx, passed on
        raise ReportUnavailable(f"매출 조회 실패: {exc.message} ({exc.status})") from None


# gunicorn refuses a request line over 4,094 bytes; 300 ids of up to 7 digits with their encoded commas
# ("%2C") stay under 3,000.
IDS_PER_CALL = 300


def read_store_data(*, client: ServiceClient, store_id: int, start: datetime.date, end: datetime.date,
                    jwt_secret: str, max_days: int) -> StoreData:
    """The three calls: payments and orders at once, then the menu with the costs of what they sold. The cost
    history starts early enough for the sales the period's refunds take back, but never covers more than
    max_days (the services' SALESYNC_MAX_REPORT_DAYS)."""
    token = issue_token(store_id=store_id, secret=jwt_secret, ttl_seconds=TOKEN_SECONDS)
    period = {"start": start.isoformat(), "end": end.isoformat()}
    sales, orders = call_in_parallel(
        lambda: _read(client, "sale", "/internal/consulting/sales", ConsultingSaleSummary, params=period, token=token),
        lambda: _read(client, "order", "/internal/consulting/orders", ConsultingOrderSummary, params=period,
                      token=token))
    sold = sorted({line.item_id for line in orders.lines} | {line.item_id for line in sales.refund_lines})
    earliest = min([start, *(datetime.date.fromisoformat(line.sold_on) for line in sales.refund_lines)])
    cost_start = max(earliest, end - datetime.timedelta(days=max_days - 1))
    params = {"start": cost_start.isoformat(), "end": end.isoformat()}
    # One call for a usual menu; a store that sold more items than one request line holds asks in batches,
    # each answering the whole menu besides its ids, merged by item.
    items = {}
    for batch in [sold[at:at + IDS_PER_CALL] for at in range(0, len(sold), IDS_PER_CALL)] or [[]]:
        batch_params = {**params, "ids": ",".join(map(str, batch))} if batch else params
        for item in _read(client, "item", "/internal/consulting/menu", ConsultingMenu, params=batch_params,
                          token=token).items:
            items[item.item_id] = item
    menu = ConsultingMenu(items=list(items.values()))
    return StoreData(sales=sales, orders=orders, menu=menu, costs_from=cost_start)


# --- arithmetic ----------------------------------------------------------------------------------

def change_pct(now: int, before: int) -> float | None:
    """now against before in percent, one decimal; None when there is nothing before to compare with."""
    return round((now - before) * 100 / before, 1) if before > 0 else None


def _compared(now: int, before: int) -> dict:
    return {"value": now, "previous": before, "change_pct": change_pct(now, before)}


def average_ticket(totals) -> int:
    """What a payment brought on average, before refunds."""
    return round((totals.sales_volume + totals.refunds) / totals.payments) if totals.payments else 0


class _Costs:
    def __init__(self, menu: ConsultingMenu, since: datetime.date):
        self.since = since.isoformat()
        self.days = {item.item_id: [entry.effective_date for entry in item.costs] for item in menu.items}
        self.costs = {item.item_id: [entry.cost for entry in item.costs] for item in menu.items}

    def on(self, item_id: int, day: str) -> int | None:
        """The cost in force on day: the latest entry on or before it. A day before the history read (a refund
        of a sale older than max_days) counts the cost in force on its first day."""
        days = self.days.get(item_id)
        if not days:
            return None
        position = bisect.bisect_right(days, max(day, self.since))
        return self.costs[item_id][position - 1] if position else None


@dataclasses.dataclass
class _Item:
    name: str
    quantity: int = 0
    revenue: int = 0
    cost: int = 0
    cost_missing: bool = False

    def add(self, quantity: int, revenue: int, unit_cost: int | None) -> None:
        self.quantity += quantity
        self.revenue += revenue
        if unit_cost is None:
            self.cost_missing = True
        else:
            self.cost += unit_cost * quantity


def _items(data: StoreData) -> dict[int, _Item]:
    """Per item: the period's paid lines minus what its refunds took back, each at the cost of its sale's day."""
    costs = _Costs(data.menu, data.costs_from)
    items: dict[int, _Item] = {}
    for line in data.orders.lines:
        items.setdefault(line.item_id, _Item(line.name)).add(line.quantity, line.sales_volume,
                                                             costs.on(line.item_id, line.date))
    for line in data.sales.refund_lines:
        items.setdefault(line.item_id, _Item(line.name)).add(-line.quantity, -line.sales_volume,
                                                             costs.on(line.item_id, line.sold_on))
    return items


def menu_class(*, popular: bool, profitable: bool) -> str:
    if popular:
        return STAR if profitable else PLOWHORSE
    return PUZZLE if profitable else DOG


def menu_analysis(items: dict[int, _Item]) -> dict:
    """The items sold (net quantity above 0), best contribution first, with their class; those without a
    cost apart; and the two thresholds."""
    sold = [item for item in items.values() if item.quantity > 0]
    total_quantity = sum(item.quantity for item in sold)
    costed = [item for item in sold if not item.cost_missing]
    costed_quantity = sum(item.quantity for item in costed)
    average_margin = (round(sum(item.revenue - item.cost for item in costed) / costed_quantity)
                      if costed_quantity else 0)
    popular_share = POPULAR_SHARE / len(sold) if sold else 0.0
    rows = []
    for item in sold:
        share = item.quantity / total_quantity
        row = {"name": item.name, "quantity": item.quantity, "revenue": item.revenue,
               "share_pct": round(share * 100, 1), "class": None, "unit_margin": None, "contribution": None}
        if not item.cost_missing:
            contribution = item.revenue - item.cost
            unit_margin = round(contribution / item.quantity)
            row.update(unit_margin=unit_margin, contribution=contribution)
            row["class"] = menu_class(popular=share >= popular_share, profitable=unit_margin >= average_margin)
        rows.append(row)
    rows.sort(key=lambda row: (row["contribution"] is None, -(row["contribution"] or 0), -row["revenue"], row["name"]))
    return {"items": rows, "average_unit_margin": average_margin,
            "popular_share_pct": round(popular_share * 100, 1)}


def traffic(orders: ConsultingOrderSummary) -> dict:
    """Revenue and orders by hour and by weekday; the peak hours and the empty ones of the trading day."""
    by_hour: dict[int, list[int]] = collections.defaultdict(lambda: [0, 0])
    by_weekday: dict[int, list[int]] = collections.defaultdict(lambda: [0, 0])
    for cell in orders.hours:
        for bucket, key in ((by_hour, cell.hour), (by_weekday, cell.weekday)):
            bucket[key][0] += cell.orders
            bucket[key][1] += cell.sales_volume
    hours = [{"hour": hour, "orders": by_hour[hour][0], "revenue": by_hour[hour][1]} for hour in sorted(by_hour)]
    weekdays = [{"weekday": WEEKDAYS[day - 1], "orders": by_weekday[day][0], "revenue": by_weekday[day][1]}
                for day in sorted(by_weekday)]
    if not hours:
        return {"hours": [], "weekdays": [], "peak_hours": [], "empty_hours": []}
    peak = sorted(hours, key=lambda h: (-h["revenue"], -h["orders"], h["hour"]))[:PEAK_HOURS]
    busiest = max(h["orders"] for h in hours)
    first, last = hours[0]["hour"], hours[-1]["hour"]
    empty = [hour for hour in range(first, last + 1) if by_hour.get(hour, [0])[0] <= busiest * EMPTY_HOUR_SHARE]
    return {"hours": hours, "weekdays": weekdays, "peak_hours": sorted(h["hour"] for h in peak),
            "empty_hours": empty}


def period_figures(data: StoreData, *, start: datetime.date, end: datetime.date) -> dict:
    now, before = data.sales.period, data.sales.previous
    before_start, before_end = previous_period(start, end)
    items = _items(data)
    sold_ids = {item_id for item_id, item in items.items() if item.quantity > 0}
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "days": (end - start).days + 1},
        "previous_period": {"start": before_start.isoformat(), "end": before_end.isoformat()},
        "totals": {
            "revenue": _compared(now.sales_volume, before.sales_volume),
            "payments": _compared(now.payments, before.payments),
            "average_ticket": _compared(average_ticket(now), average_ticket(before)),
            "cash": _compared(now.cash_total, before.cash_total),
            "card": _compared(now.card_total, before.card_total),
            "refunds": _compared(now.refunds, before.refunds),
        },
        **menu_analysis(items),
        **traffic(data.orders),
        "not_sold": [item.name for item in data.menu.items if item.on_menu and item.item_id not in sold_ids],
    }
