"""Item routes (API.md §3.6-3.9): parse, call one function, answer JSON."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from salesync_common.request_body import parse_body
from salesync_common.tokens import login_required
from salesync_common.unit_of_work import unit_of_work

from .. import items
from ..limits import item_limit
from ..models import db
from ..schemas import ItemForm, ItemUpdate

bp = Blueprint("items", __name__, url_prefix="/categories")


@bp.post("/<int:category_id>/items")
@login_required
@unit_of_work(db)
def create_item(category_id: int):
    form = parse_body(ItemForm)
    item_id = items.create_item(session=db.session, store_id=g.store_id, category_id=category_id,
                                name=form.name, price=form.price, limit=item_limit())
    return jsonify(result="success", message="품목 등록 성공", id=item_id), 201


@bp.get("/items/<int:item_id>")
@login_required
def get_item(item_id: int):
    item = items.get_item(session=db.session, store_id=g.store_id, item_id=item_id)
    return jsonify(result="success", message="품목 조회 성공", item=items.item_view(item))


@bp.put("/items/<int:item_id>")
@login_required
@unit_of_work(db)
def update_item(item_id: int):
    form = parse_body(ItemUpdate)
    item = items.update_item(session=db.session, store_id=g.store_id, item_id=item_id, name=form.name,
                             price=form.price, category_id=form.category_id)
    return jsonify(result="success", message="품목 수정 성공", item_id=item.item_id)


@bp.delete("/items/<int:item_id>")
@login_required
@unit_of_work(db)
def delete_item(item_id: int):
    item = items.delete_item(session=db.session, store_id=g.store_id, item_id=item_id)
    return jsonify(result="success", message="품목 삭제 성공", item_id=item.item_id)
