"""Sales lists, refunds and revenue by the store's business day.

Revenue of a day = completed payments made that day − refunds made that day. A refund keeps a copy of its
order's lines, so the reports take those lines (quantity, sales and cost) out on the same day.
"""
from __future__ import annotations

import datetime
import zoneinfo

from sqlalchemy import BigInteger, case, cast, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesync_common.business_day import days_of, period_bounds
from salesync_common.contracts.orders import PaidOrderLines
from salesync_common.database import MAX_ID
from salesync_common.errors import Conflict, NotFound, UpstreamError
from salesync_common.service_client import ServiceClient
from salesync_common.unit_of_work import UnitOfWork

from .models import COMPLETED, PAYMENT_LABELS, Refund, RefundLine, Sale

PAID = "paid"  # the order service's status of an order closed by a payment


def sale_view(sale: Sale, refund: Refund | None) -> dict:
    return {
        "id": sale.sale_id,
        "order_id": sale.order_id,
        "table_no": sale.table_no,
        "total_price": sale.total_price,
        "sale_date": sale.completed_at.isoformat(),
        "payment_type": PAYMENT_LABELS[sale.payment_method],
        "payment_method": sale.payment_method,
        "refunded_at": refund.created_at.isoformat() if refund else None,
    }


def refund_sale(*, unit: UnitOfWork, client: ServiceClient, store_id: int, sale_id: int) -> Refund:
    """Refund a completed sale, keeping a copy of its order's lines: the reports take them out on the
    business day of the refund, the day its revenue falls."""
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


def refunded_lines(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                   zone: zoneinfo.ZoneInfo) -> list[dict]:
    """The lines refunds of start..end took back, per business day of the refund, item and business day the
    order was paid (whose cost the refund takes back). One query, whatever the length of the period."""
    since, until = period_bounds(start, end, zone)
    refund_day = func.date(func.timezone(zone.key, Refund.created_at))
    sold_on = func.date(func.timezone(zone.key, Refund.order_paid_at))
    latest_name = func.array_agg(aggregate_order_by(RefundLine.item_name, Refund.order_paid_at.desc()))[1]
    rows = session.execute(
        select(refund_day, sold_on, RefundLine.item_id, latest_name, func.sum(RefundLine.quantity),
               func.sum(cast(RefundLine.quantity, BigInteger) * RefundLine.unit_price))
        .join(Refund, Refund.refund_id == RefundLine.refund_id)
        .where(Refund.store_id == store_id, Refund.created_at >= since, Refund.created_at < until)
        .group_by(refund_day, sold_on, RefundLine.item_id)
        .order_by(refund_day, sold_on, RefundLine.item_id)
    ).all()
    return [{"date": day.isoformat(), "sold_on": sold.isoformat(), "item_id": item_id, "name": name,
             "quantity": int(quantity), "sales_volume": int(volume)}
            for day, sold, item_id, name, quantity, volume in rows]


def daily_revenue(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
                  zone: zoneinfo.ZoneInfo) -> list[dict]:
    """Every business day of start..end: revenue (payments − refunds), payment count, refunds,
    and the cash and card parts of the revenue. One query, whatever the length of the period."""
    since, until = period_bounds(start, end, zone)
    payments = select(
        func.date(func.timezone(zone.key, Sale.completed_at)).label("day"),
        Sale.total_price.label("amount"), literal(1).label("payments"), Sale.payment_method.label("method"),
    ).where(Sale.store_id == store_id, Sale.status == COMPLETED,
            Sale.completed_at >= since, Sale.completed_at < until)
    refunds = select(
        func.date(func.timezone(zone.key, Refund.created_at)).label("day"),
        (-Refund.amount).label("amount"), literal(0).label("payments"), Sale.payment_method.label("method"),
    ).join(Sale, Sale.sale_id == Refund.sale_id).where(
        Refund.store_id == store_id, Refund.created_at >= since, Refund.created_at < until)
    moves = union_all(payments, refunds).subquery()

    def by_method(method):
        return func.sum(case((moves.c.method == method, moves.c.amount), else_=0))

    rows = session.execute(
        select(moves.c.day, func.sum(moves.c.amount), func.sum(moves.c.payments),
               -func.sum(func.least(moves.c.amount, 0)), by_method("cash"), by_method("card"))
        .group_by(moves.c.day)
    ).all()
    found = {row[0]: [int(value) for value in row[1:]] for row in rows}
    keys = ("sales_volume", "payments", "refunds", "cash_total", "card_total")
    return [{"date": day.isoformat(), **dict(zip(keys, found.get(day, [0] * len(keys)), strict=True))}
            for day in days_of(start, end)]
