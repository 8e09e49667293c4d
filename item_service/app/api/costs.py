"""Cost routes (API.md §3.10-3.12), dated by the store's business day: parse, call one function, answer JSON."""
from __future__ import annotations

from flask import Blueprint, Response, g, jsonify

from salesync_common.business_day import store_time_zone, today_in
from salesync_common.request_body import parse_body
from salesync_common.tokens import login_required
from salesync_common.unit_of_work import unit_of_work

from .. import costs
from ..models import db
from ..schemas import CostForm, CostsForm

bp = Blueprint("costs", __name__, url_prefix="/categories/items/costs")


def _today():
    return today_in(store_time_zone())


@bp.get("")
@login_required
def list_costs():
    body = costs.cost_list_json(session=db.session, store_id=g.store_id, today=_today(), message="원가 조회 성공")
    return Response(body, mimetype="application/json")


@bp.get("/by-category")
@login_required
def cost_page():
    """The same costs nested by category, as the BFF's cost page shows them (GET /bff/costs)."""
    body = costs.cost_page_json(session=db.session, store_id=g.store_id, today=_today(), message="원가 조회 성공")
    return Response(body, mimetype="application/json")


@bp.post("")
@login_required
@unit_of_work(db)
def set_costs():
    form = parse_body(CostsForm)
    changed = costs.set_costs(session=db.session, store_id=g.store_id, lines=form.items,
                              effective_date=form.effective_date, today=_today())
    return jsonify(result="success", message="원가 등록 성공", items=changed)


@bp.put("/<int:item_id>")
@login_required
@unit_of_work(db)
def set_cost(item_id: int):
    form = parse_body(CostForm)
    item = costs.set_cost(session=db.session, store_id=g.store_id, item_id=item_id, cost=form.cost,
                          effective_date=form.effective_date, today=_today())
    return jsonify(result="success", message="원가 수정 성공", item=item)
