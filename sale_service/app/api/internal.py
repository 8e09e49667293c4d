"""Routes other services call with the forwarded (or re-issued) token of the store."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from salesync_common.business_day import parse_period
from salesync_common.contracts.sales import ConsultingSaleSummary, RefundItemDayReport
from salesync_common.service_auth import called_by
from salesync_common.tokens import login_required

from .. import consulting_summary, revenue
from ..models import db

bp = Blueprint("internal", __name__, url_prefix="/internal")


@bp.get("/reports/refund-item-days")
@login_required
def refund_item_day_report():
    start, end = parse_period(request.args.get("start"), request.args.get("end"))
    lines = revenue.refunded_lines(session=db.session, store_id=g.store_id, start=start, end=end)
    return jsonify(RefundItemDayReport(lines=lines).model_dump(mode="json"))


@bp.get("/consulting/sales")
@login_required
@called_by("consulting")
def consulting_sales():
    start, end = parse_period(request.args.get("start"), request.args.get("end"))
    summary = consulting_summary.sale_summary(session=db.session, store_id=g.store_id, start=start, end=end)
    return jsonify(ConsultingSaleSummary(**summary).model_dump(mode="json"))
