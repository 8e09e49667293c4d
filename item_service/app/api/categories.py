"""Category routes and the menu tree (API.md §3.1-3.5): parse, call one function, answer JSON."""
from __future__ import annotations

from flask import Blueprint, Response, g, jsonify

from salesync_common.business_day import store_time_zone, today_in
from salesync_common.request_body import parse_body
from salesync_common.tokens import login_required
from salesync_common.unit_of_work import unit_of_work

from .. import categories
from ..limits import category_limit
from ..menu import menu_json
from ..models import db
from ..schemas import CategoryForm

bp = Blueprint("categories", __name__, url_prefix="/categories")


@bp.get("/")
@login_required
def list_categories():
    found = categories.list_categories(session=db.session, store_id=g.store_id)
    return jsonify(categories=[{"id": category.category_id, "name": category.name} for category in found],
                   store_id=g.store_id)


@bp.post("/")
@login_required
@unit_of_work(db)
def create_category():
    form = parse_body(CategoryForm)
    category_id = categories.create_category(session=db.session, store_id=g.store_id, name=form.name,
                                            limit=category_limit())
    return jsonify(result="success", message="카테고리 등록 성공", id=category_id), 201


@bp.put("/<int:category_id>")
@login_required
@unit_of_work(db)
def rename_category(category_id: int):
    form = parse_body(CategoryForm)
    category = categories.rename_category(session=db.session, store_id=g.store_id, category_id=category_id,
                                          name=form.name)
    # 201, not 200: the POS frontend was written against that.
    return jsonify(result="success", message="카테고리 수정 성공", id=category.category_id), 201


@bp.delete("/<int:category_id>")
@login_required
@unit_of_work(db)
def delete_category(category_id: int):
    category = categories.delete_category(session=db.session, store_id=g.store_id, category_id=category_id)
    return jsonify(result="success", message="카테고리 삭제 성공", category_id=category.category_id)


@bp.get("/items")
@login_required
def menu_tree():
    body = menu_json(session=db.session, store_id=g.store_id, today=today_in(store_time_zone()))
    return Response(body, mimetype="application/json")
