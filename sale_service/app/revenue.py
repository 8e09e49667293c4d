"""Sales lists, refunds and revenue by the store's business day.

Revenue of a day = completed payments made that day − refunds made that day. A refund keeps a copy of its
order's lines, so the reports take those lines (quantity, sales and cost) out on the same day.
"""
from __future__ import annotations

import datetime
import zoneinfo

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesync_common.business_day import days_of, store_time_zone
from salesync_common.contracts.orders import PaidOrderLines
from salesync_common.contracts.stores import StoreCard
from salesync_common.database import MAX_ID
from salesync_common.errors import Conflict, NotFound, UpstreamError
from salesync_common.service_client import ServiceClient
from salesync_common.unit_of_work import UnitOfWork

from . import refund_days, revenue_days
from .models import COMPLETED, PAYMENT_LABELS, Refund, RefundItemDay, RefundLine, RevenueDay, Sale

PAID = "paid"  # the order service's status of an order closed by a payment


def sale_view(sale: Row) -> dict:
    """A sale as GET /sales/ lists it, from a row of sales_page.page_query (with its refund's time)."""
    return {
        "id": sale.sale_id,
        "order_id": sale.order_id,
        "table_no": sale.table_no,
        "total_price": sale.total_price,
        "sale_date": sale.completed_at.isoformat(),
        "payment_type": PAYMENT_LABELS[sale.payment_method],
        "payment_method": sale.payment_method,
        "refunded_at": sale.refunded_at.isoformat() if sale.refunded_at is not None else None,
    }


def refund_sale(*, unit: UnitOfWork, client: ServiceClient, store_id: int, sale_id: int,
                zone: zoneinfo.ZoneInfo) -> Refund:
    """Refund a completed sale, keeping a copy of its order's lines: the reports take them out on the
    business day of the refund (in the store's time zone `zone`), the day its revenue falls."""
    session = unit.session
    sale = _refundable(session, store_id=store_id, sale_id=sale_id, lock=False)
    # A paid order's lines never change, so they are read before the sale is locked and no transaction
    # stays open while the order service answers.
    unit.checkpoint("the sale is read: no transaction stays open while the order service answers")
    lines = paid_order_of(client=client, sale=sale)
    _refundable(session, store_id=store_id, sale_id=sale_id, lock=True)  # a refund at the same time waits here
    refund = Refund(sale_id=sale_id, store_id=store_id, amount=sale.total_price)
    keep_lines(refund, lines)
    session.add(refund)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("이미 취소된 결제입니다.", error="already_refunded", sale_id=sale_id) from None
    refund_days.add_refund(session=session, refund_id=refund.refund_id, zone=zone)
    revenue_days.add_refund(session=session, refund_id=refund.refund_id, zone=zone)
    session.refresh(refund)
    return refund


def _refundable(session: Session, *, store_id: int, sale_id: int, lock: bool) -> Sale:
    """The store's completed sale that has no refund yet (404 or 409 otherwise)."""
    if sale_id > MAX_ID:
        raise NotFound("존재하지 않는 결제 내역", error="sale_not_found")
    query = select(Sale).where(Sale.sale_id == sale_id, Sale.store_id == store_id, Sale.status == COMPLETED)
    sale = session.scalar(query.with_for_update() if lock else query)
    if sale is None:
        raise NotFound("존재하지 않는 결제 내역", error="sale_not_found")
    if session.scalar(select(Refund).where(Refund.sale_id == sale_id)) is not None:
        raise Conflict("이미 취소된 결제입니다.", error="already_refunded", sale_id=sale_id)
    return sale


def keep_lines(refund: Refund, order: PaidOrderLines) -> None:
    refund.order_paid_at = datetime.datetime.fromisoformat(order.paid_at)
    refund.lines = [RefundLine(item_id=line.item_id, item_name=line.name, unit_price=line.unit_price,
                               quantity=line.quantity) for line in order.lines]


def paid_order_of(*, client: ServiceClient, sale: Sale, token: str | None = None) -> PaidOrderLines:
    """The sale's order with its lines, as the order service counts them in its reports."""
    order = client.get("order", f"/internal/orders/{sale.order_id}/lines", token=token).parsed(
        PaidOrderLines, error="order_lookup_failed", message="order lookup failed")
    if order.status != PAID or order.sale_id != sale.sale_id or order.paid_at is None:
        # A completed sale's order is always paid by it; anything else is not for a refund to guess at.
        raise UpstreamError("주문 서비스가 이 결제의 주문을 결제된 주문으로 보여 주지 않습니다.",
                            error="order_not_paid_by_sale", sale_id=sale.sale_id, order_id=sale.order_id)
    return order


def store_zone(*, client: ServiceClient, token: str | None = None) -> zoneinfo.ZoneInfo:
    """The time zone of the store: the caller's (cached), or the token's for work done outside a request
    (the reconciler)."""
    if token is None:
        return store_time_zone()
    return client.get("store", "/internal/stores/me", token=token).parsed(
        StoreCard, error="store_lookup_failed", message="store lookup failed").zone


def refunded_lines(*, session: Session, store_id: int, start: datetime.date, end: datetime.date) -> list[dict]:
    """The lines refunds of start..end took back, per business day of the refund, item and business day the
    order was paid (whose cost the refund takes back): rows of the refund item-day aggregate, never the
    refund lines themselves."""
    rows = session.execute(
        select(RefundItemDay.business_day, RefundItemDay.sold_on, RefundItemDay.item_id, RefundItemDay.item_name,
               RefundItemDay.quantity, RefundItemDay.sales_volume)
        .where(RefundItemDay.store_id == store_id, RefundItemDay.business_day >= start,
               RefundItemDay.business_day <= end)
        .order_by(RefundItemDay.business_day, RefundItemDay.sold_on, RefundItemDay.item_id)
    ).all()
    return [{"date": day.isoformat(), "sold_on": sold.isoformat(), "item_id": item_id, "name": name,
             "quantity": quantity, "sales_volume": volume}
            for day, sold, item_id, name, quantity, volume in rows]


def daily_revenue(*, session: Session, store_id: int, start: datetime.date, end: datetime.date) -> list[dict]:
    """Every business day of start..end: revenue (payments − refunds), payment count, refunds,
    and the cash and card parts of the revenue. One row of the revenue-day aggregate per day at most."""
    rows = session.execute(
        select(RevenueDay.business_day, RevenueDay.payments, RevenueDay.paid_cash, RevenueDay.paid_card,
               RevenueDay.refunded_cash, RevenueDay.refunded_card)
        .where(RevenueDay.store_id == store_id, RevenueDay.business_day >= start, RevenueDay.business_day <= end)
    ).all()
    found = {day: (payments, paid_cash - refunded_cash, paid_card - refunded_card, refunded_cash + refunded_card)
             for day, payments, paid_cash, paid_card, refunded_cash, refunded_card in rows}
    days = []
    for day in days_of(start, end):
        payments, cash, card, refunds = found.get(day, (0, 0, 0, 0))
        days.append({"date": day.isoformat(), "sales_volume": cash + card, "payments": payments,
                     "refunds": refunds, "cash_total": cash, "card_total": card})
    return days
