"""Public order routes (API.md §4, §12): the POS screen's tables."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from salesync_common.errors import ValidationFailed
from salesync_common.idempotency import idempotent
from salesync_common.request_body import parse_body
from salesync_common.tokens import login_required
from salesync_common.unit_of_work import current_unit, unit_of_work

from .. import orders
from ..menu import fetch_menu_items
from ..models import MAX_TABLE_NO, IdempotencyKey, db
from ..schemas import OrderForm

bp = Blueprint("orders", __name__, url_prefix="/orders")


def _new_items(form: OrderForm, quantities: dict[int, int]):
    """Look up only the items not already on the table's order (their ordered price is kept)."""
    current = orders.open_order(session=db.session, store_id=g.store_id, table_no=form.table_no)
    on_order = {line.item_id for line in current.lines} if current else set()
    current_unit().checkpoint("the table's order is read: no transaction stays open while the item service answers")
    return fetch_menu_items([item_id for item_id in quantities if item_id not in on_order])


def _cancelled(order):
    return jsonify(result="cancelled", message="주문 취소 : 주문 내역 없음",
                   order_id=order.order_id, table_no=order.table_no)


@bp.post("/")
@login_required
@idempotent(db, IdempotencyKey)
def place_order():
    form = parse_body(OrderForm)
    if not form.carts:
        cancelled = orders.cancel_open_order(session=db.session, store_id=g.store_id, table_no=form.table_no)
        if cancelled is not None:
            return _cancelled(cancelled)
        return jsonify(result="failed", message="주문 등록 실패 : 주문 내역 없음", table_no=form.table_no)
    quantities = orders.merged_quantities(form.carts)
    order = orders.place_order(session=db.session, store_id=g.store_id, table_no=form.table_no,
                               quantities=quantities, menu=fetch_menu_items(list(quantities)))
    return jsonify(result="success", message="주문 생성 성공", order_id=order.order_id,
                   table_no=order.table_no, total_price=order.total_price)


@bp.put("/")
@login_required
@idempotent(db, IdempotencyKey)
def change_order():
    form = parse_body(OrderForm)
    if not form.carts:
        cancelled = orders.cancel_open_order(session=db.session, store_id=g.store_id, table_no=form.table_no)
        if cancelled is not None:
            return _cancelled(cancelled)
        return jsonify(result="failed", message="존재하지 않는 주문", table_no=form.table_no)
    quantities = orders.merged_quantities(form.carts)
    order = orders.change_order(session=db.session, store_id=g.store_id, table_no=form.table_no,
                                quantities=quantities, menu=_new_items(form, quantities))
    return jsonify(result="success", message="주문 수정 성공", order_id=order.order_id,
                   table_no=order.table_no, total_price=order.total_price)


@bp.get("/unpaids")
@login_required
def unpaid_orders():
    views = orders.open_order_views(session=db.session, store_id=g.store_id)
    return jsonify(result="success", message="미결제 주문 목록 조회 성공", store_id=g.store_id, orders=views)


def _checked_table(table_no: int) -> int:
    if table_no > MAX_TABLE_NO:
        raise ValidationFailed(f"table_no must be between 0 and {MAX_TABLE_NO}", field="table_no")
    return table_no


@bp.get("/unpaids/<int:table_no>")
@login_required
def unpaid_order_of_table(table_no: int):
    found = orders.open_order_views(session=db.session, store_id=g.store_id, table_no=_checked_table(table_no))
    if not found:
        return jsonify(result="success", message="미결제 주문 없음", store_id=g.store_id, order_id=None,
                       table_no=table_no, total_price=0, carts=[])
    return jsonify(result="success", message="미결제 주문 테이블 조회 성공", store_id=g.store_id, **found[0])


@bp.delete("/<int:table_no>")
@login_required
@unit_of_work(db)
def cancel_order(table_no: int):
    order = orders.cancel_open_order(session=db.session, store_id=g.store_id, table_no=_checked_table(table_no))
    return jsonify(result="success", message="주문 삭제 성공", table_no=table_no,
                   orders=[order.order_id] if order else [])
