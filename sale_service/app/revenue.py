"""Sales lists, refunds and revenue by the store's business day.

Revenue of a day = completed payments made that day − refunds made that day.
"""
from __future__ import annotations

import datetime
import zoneinfo

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesync_common.business_day import days_of, period_bounds
from salesync_common.database import MAX_ID
from salesync_common.errors import Conflict, NotFound

from .models import COMPLETED, PAYMENT_LABELS, Refund, Sale


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


def list_sales(*, session: Session, store_id: int) -> list[dict]:
    rows = session.execute(
        select(Sale, Refund).outerjoin(Refund, Refund.sale_id == Sale.sale_id)
        .where(Sale.store_id == store_id, Sale.status == COMPLETED)
        .order_by(Sale.completed_at, Sale.sale_id)
    ).all()
    return [sale_view(sale, refund) for sale, refund in rows]


def refund_sale(*, session: Session, store_id: int, sale_id: int) -> Refund:
    if sale_id > MAX_ID:
        raise NotFound("존재하지 않는 결제 내역", error="sale_not_found")
    sale = session.scalar(select(Sale).where(Sale.sale_id == sale_id, Sale.store_id == store_id,
                                             Sale.status == COMPLETED).with_for_update())
    if sale is None:
        raise NotFound("존재하지 않는 결제 내역", error="sale_not_found")
    if session.scalar(select(Refund).where(Refund.sale_id == sale_id)) is not None:
        raise Conflict("이미 취소된 결제입니다.", error="already_refunded", sale_id=sale_id)
    refund = Refund(sale_id=sale_id, store_id=store_id, amount=sale.total_price)
    session.add(refund)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("이미 취소된 결제입니다.", error="already_refunded", sale_id=sale_id) from None
    session.refresh(refund)
    return refund


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
