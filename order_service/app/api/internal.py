"""Routes other services call with the forwarded (or re-issued) token of the store.

Closing an order for a sale takes the sale service's own proof (its service token): a store token alone,
or another service, could otherwise claim a sale id the sale service has not yet given to another store,
and that store's payment would then fail. Sale ids stay unique across stores; only the sale service names
them, for the store whose token it forwards.
"""
from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from salesync_common.business_day import parse_period, store_time_zone
from salesync_common.contracts.orders import ConsultingOrderSummary
from salesync_common.request_body import parse_body
from salesync_common.service_auth import called_by
from salesync_common.tokens import login_required
from salesync_common.unit_of_work import unit_of_work

from .. import consulting_summary, orders, reports
from ..models import db
from ..schemas import PaymentClaim

bp = Blueprint("internal", __name__, url_prefix="/internal")


@bp.get("/orders/open/<int:table_no>")
@login_required
def open_order(table_no: int):
    order = orders.open_order(session=db.session, store_id=g.store_id, table_no=table_no, with_lines=False)
    if order is None:
        raise orders.OrderNotFound("결제할 주문이 없는 테이블입니다.", table_no=table_no)
    return jsonify(orders.payment_view(order))


@bp.get("/orders/<int:order_id>")
@login_required
def order_state(order_id: int):
    return jsonify(orders.payment_view(orders.get_order(session=db.session, store_id=g.store_id, order_id=order_id,
                                                        with_lines=False)))


@bp.get("/orders/<int:order_id>/lines")
@login_required
def order_lines(order_id: int):
    return jsonify(orders.lines_view(orders.get_order(session=db.session, store_id=g.store_id, order_id=order_id)))


@bp.post("/orders/<int:order_id>/pay")
@login_required
@called_by("sale")
@unit_of_work(db)
def pay_order(order_id: int):
    claim = parse_body(PaymentClaim)
    order = orders.mark_paid(session=db.session, store_id=g.store_id, order_id=order_id,
                             sale_id=claim.sale_id, total_price=claim.total_price, zone=store_time_zone())
    return jsonify(orders.payment_view(order))


@bp.get("/reports/item-days")
@login_required
def item_day_report():
    start, end = parse_period(request.args.get("start"), request.args.get("end"))
    return Response(reports.item_day_report(session=db.session, store_id=g.store_id, start=start, end=end),
                    mimetype="application/json")
@bp.get("/consulting/orders")
@login_required
@called_by("consulting")
def consulting_orders():
    start, end = parse_period(request.args.get("start"), request.args.get("end"))
    summary = consulting_summary.order_summary(session=db.session, store_id=g.store_id, start=start, end=end,
                                               zone=store_time_zone())
    return jsonify(ConsultingOrderSummary(**summary).model_dump(mode="json"))
