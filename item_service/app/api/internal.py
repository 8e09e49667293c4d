"""Routes only other services call, with the caller's forwarded token: the store is always the token's."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from salesync_common.business_day import parse_period
from salesync_common.contracts.items import CostHistoryReport, OrderableItems
from salesync_common.request_body import parse_query
from salesync_common.tokens import login_required

from .. import costs, items
from ..models import db
from ..schemas import ItemIdsQuery

bp = Blueprint("internal", __name__, url_prefix="/internal")


@bp.get("/items")
@login_required
def find_items():
    query = parse_query(ItemIdsQuery)
    found = items.find_items(session=db.session, store_id=g.store_id, item_ids=query.ids)
    return jsonify(OrderableItems(items=found).model_dump(mode="json"))


@bp.get("/items/costs")
@login_required
def cost_history():
    start, end = parse_period(request.args.get("start"), request.args.get("end"))
    history = costs.cost_history(session=db.session, store_id=g.store_id, start=start, end=end)
    return jsonify(CostHistoryReport(items=history).model_dump(mode="json"))
