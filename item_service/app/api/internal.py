"""Routes only other services call, with the caller's forwarded token: the store is always the token's."""
from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from salesync_common.business_day import parse_period
from salesync_common.contracts.items import ConsultingMenu, OrderableItems
from salesync_common.errors import ValidationFailed
from salesync_common.request_body import parse_query
from salesync_common.service_auth import called_by
from salesync_common.tokens import login_required

from .. import costs, items
from ..consulting_menu import menu_with_costs as consulting_menu_of
from ..limits import item_limit
from ..models import db
from ..schemas import ItemIdsQuery, comma_separated_ids

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
    item_ids = _cost_ids(request.args.get("ids"))
    body = costs.cost_history_json(session=db.session, store_id=g.store_id, start=start, end=end, item_ids=item_ids)
    return Response(body, mimetype="application/json")


def _cost_ids(value: str | None) -> list[int]:
    """The ids whose costs a report asks for: required, at most the store's item limit
    (SALESYNC_MAX_ITEMS_PER_STORE) per call, so the reply never grows with the items a store deleted."""
    if value is None:
        raise ValidationFailed("ids is required (comma-separated item ids)", error="missing_field", field="ids")
    try:
        return comma_separated_ids(value, limit=item_limit())
    except ValueError as exc:
        raise ValidationFailed(f"ids: {exc}", field="ids") from None


@bp.get("/consulting/menu")
@login_required
@called_by("consulting")
def consulting_menu():
    start, end = parse_period(request.args.get("start"), request.args.get("end"))
    # Sold items of the period, which may include deleted ones: none is fine (a quiet period).
    item_ids = _cost_ids(request.args.get("ids")) if request.args.get("ids") else []
    found = consulting_menu_of(session=db.session, store_id=g.store_id, start=start, end=end, item_ids=item_ids)
    return jsonify(ConsultingMenu(items=found).model_dump(mode="json"))
