"""Revenue and profit reports (API.md §6.2-6.3): at most four calls to other services whatever the period.
The order lines, refund lines (and revenue) are asked at once; then, once the lines say which items were sold
and from which day (a refund may take back a sale made before the period), one call for the cost history of
those items only. A period with no lines makes no cost call."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from salesync_common.business_day import parse_period
from salesync_common.contracts.dashboard import SalesReport
from salesync_common.failpoints import delay_point
from salesync_common.service_client import call_in_parallel, service_client
from salesync_common.tokens import login_required

from .. import reports, sources

bp = Blueprint("reports", __name__, url_prefix="/dashboard")


@bp.get("/sales")
@login_required
def sales():
    delay_point("dashboard.report")  # the slow-dashboard drill: this service answers late
    start, end = parse_period(request.args.get("start"), request.args.get("end"))
    client = service_client()
    paid, refunds, revenue = call_in_parallel(
        lambda: sources.paid_items(client=client, start=start, end=end),
        lambda: sources.refunds(client=client, start=start, end=end),
        lambda: sources.revenue_of_period(client=client, start=start, end=end))
    sold = reports.Sold(start, paid, refunds)
    costs = sources.costs_of(client=client, sold=sold, end=end)
    return jsonify(SalesReport(result="success", message="매출 조회 성공", start_date=start.isoformat(),
                               end_date=end.isoformat(), sales_volume=revenue,
                               items=reports.profit_by_item(sold, costs)).model_dump(mode="json"))


@bp.get("/volumes")
@login_required
def volumes():
    delay_point("dashboard.report")  # the slow-dashboard drill: this service answers late
    start, end = parse_period(request.args.get("start"), request.args.get("end"))
    client = service_client()
    paid, refunds = call_in_parallel(lambda: sources.paid_items(client=client, start=start, end=end),
                                     lambda: sources.refunds(client=client, start=start, end=end))
    sold = reports.Sold(start, paid, refunds)
    costs = sources.costs_of(client=client, sold=sold, end=end)
    return jsonify(result="success", message="기간별 매출 조회 성공", start_date=start.isoformat(),
                   end_date=end.isoformat(), total=reports.profit_by_day(sold, costs, end))
