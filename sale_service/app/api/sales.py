"""Public sale routes (API.md §5): pay a table, list sales, refund, revenue by day and period."""
from __future__ import annotations

import datetime

from flask import Blueprint, current_app, g, jsonify, request

from salesync_common.business_day import parse_day, parse_period, store_time_zone
from salesync_common.contracts.sales import DailyRevenue, PeriodRevenue
from salesync_common.idempotency import HEADER as IDEMPOTENCY_HEADER
from salesync_common.idempotency import idempotent
from salesync_common.request_body import parse_body
from salesync_common.service_client import service_client
from salesync_common.tokens import login_required
from salesync_common.unit_of_work import current_unit, unit_of_work

from .. import payments, revenue, sales_page
from ..models import IdempotencyKey, db
from ..schemas import Payment

bp = Blueprint("sales", __name__, url_prefix="/sales")


@bp.post("/")
@login_required
# A payment commits its pending sale (and so its key) mid-way. The retry of a payment cut off there
# need not wait ABANDONED_AFTER: pay_table finds the sale by its key and its row lock (or its
# creator's grace) answers 409 while the first request is still alive.
@idempotent(db, IdempotencyKey, taken_over_after=datetime.timedelta(0))
def pay():
    form = parse_body(Payment)
    sale = payments.pay_table(unit=current_unit(), client=service_client(), store_id=g.store_id,
                              table_no=form.table_no, payment_method=form.payment_type,
                              client_total=form.total_price,
                              idempotency_key=request.headers.get(IDEMPOTENCY_HEADER))
    return jsonify(result="success", message="결제 등록 성공", id=sale.sale_id, order_id=sale.order_id,
                   table_no=sale.table_no, total_price=sale.total_price), 201


@bp.get("/")
@login_required
def list_sales():
    """A page of the store's sales, newest first; `next_cursor` asks for the next one (null: no more)."""
    settings = current_app.extensions["salesync_settings"]
    limit = sales_page.parse_limit(request.args.get("limit"), default=settings.sales_page_default,
                                   maximum=settings.sales_page_max)
    after = sales_page.decode_cursor(request.args.get("cursor"), store_id=g.store_id)
    return jsonify(sales_page.page_of_sales(session=db.session, store_id=g.store_id, limit=limit, after=after))


@bp.delete("/<int:sale_id>")
@login_required
@unit_of_work(db)
def refund(sale_id: int):
    refund_row = revenue.refund_sale(unit=current_unit(), client=service_client(), store_id=g.store_id,
                                     sale_id=sale_id, zone=store_time_zone())
    return jsonify(result="success", message="결제 취소 성공", sale_id=sale_id, refund_id=refund_row.refund_id,
                   amount=refund_row.amount, refunded_at=refund_row.created_at.isoformat())


@bp.get("/daily")
@login_required
def daily():
    day = parse_day(request.args.get("date"), "date")
    [totals] = revenue.daily_revenue(session=db.session, store_id=g.store_id, start=day, end=day)
    return jsonify(DailyRevenue(result="success", message="하루 매출 조회 성공", **totals).model_dump(mode="json"))


@bp.get("/period")
@login_required
def period():
    start, end = parse_period(request.args.get("start"), request.args.get("end"))
    days = revenue.daily_revenue(session=db.session, store_id=g.store_id, start=start, end=end)
    return jsonify(PeriodRevenue(result="success", message="기간별 매출 조회 성공", start_date=start.isoformat(),
                                 end_date=end.isoformat(), sales_volume=sum(day["sales_volume"] for day in days),
                                 days=days).model_dump(mode="json"))
