"""Table orders: open, change, cancel, and the payment close called by the sale service.

Every function works on the caller's store only. Write functions flush but do not
commit: the route's unit of work (or idempotency wrapper) commits the write with its response.
"""
from __future__ import annotations

import collections
import zoneinfo

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from salesync_common.contracts.orders import OrderLineSold, OrderPayment, PaidOrderLines
from salesync_common.database import MAX_ID
from salesync_common.errors import ApiError, Conflict, NotFound

from . import item_days
from .menu import MenuItem
from .models import CANCELLED, OPEN, PAID, Order, OrderLine
from .schemas import MAX_QUANTITY, CartLine


class OrderNotFound(NotFound):
    error = "order_not_found"


def merged_quantities(carts: list[CartLine]) -> dict[int, int]:
    """One quantity per item: the POS may send an item on two lines."""
    quantities: dict[int, int] = collections.defaultdict(int)
    for line in carts:
        quantities[line.item_id] += line.quantity
    too_many = [item_id for item_id, quantity in quantities.items() if quantity > MAX_QUANTITY]
    if too_many:
        raise ApiError(f"quantity must be at most {MAX_QUANTITY} per item", status=400, error="invalid_field",
                       field="carts", item_ids=too_many)
    return dict(quantities)


def open_order(*, session: Session, store_id: int, table_no: int, lock: bool = False,
               with_lines: bool = True) -> Order | None:
    query = select(Order).where(Order.store_id == store_id, Order.table_no == table_no, Order.status == OPEN)
    if lock:
        query = query.with_for_update()
    return session.scalar(_lines_if(query, with_lines))


def _lines_if(query, with_lines: bool):
    """Lines come with an order by default; a payment or an existence check needs none (a query saved)."""
    return query if with_lines else query.options(lazyload(Order.lines))


def _set_lines(order: Order, quantities: dict[int, int], menu: dict[int, MenuItem]) -> None:
    """Make the order's lines match; an item already on the order keeps the name and price it was ordered at."""
    existing = {line.item_id: line for line in order.lines}
    for item_id, line in existing.items():
        if item_id not in quantities:
            order.lines.remove(line)
    for item_id, quantity in quantities.items():
        if item_id in existing:
            existing[item_id].quantity = quantity
        else:
            item = menu.get(item_id)
            if item is None:  # it left the order after the caller read it, so its price was not looked up
                raise Conflict("주문이 그사이 바뀌었습니다. 다시 시도하세요.", error="order_changed", item_id=item_id)
            order.lines.append(OrderLine(item_id=item_id, item_name=item.name, unit_price=item.price,
                                         quantity=quantity))
    order.total_price = sum(line.unit_price * line.quantity for line in order.lines)
    order.updated_at = func.now()


def place_order(*, session: Session, store_id: int, table_no: int, quantities: dict[int, int],
                menu: dict[int, MenuItem]) -> Order:
    if open_order(session=session, store_id=store_id, table_no=table_no, with_lines=False) is not None:
        raise Conflict("이미 주문이 있는 테이블입니다. 주문을 수정하세요.", error="table_has_open_order",
                       table_no=table_no)
    order = Order(store_id=store_id, table_no=table_no, status=OPEN, total_price=0)
    session.add(order)
    _set_lines(order, quantities, menu)
    try:
        session.flush()
    except IntegrityError:
        # Another terminal opened this table a moment ago; the partial unique index decided.
        raise Conflict("이미 주문이 있는 테이블입니다. 주문을 수정하세요.", error="table_has_open_order",
                       table_no=table_no) from None
    return order


def change_order(*, session: Session, store_id: int, table_no: int, quantities: dict[int, int],
                 menu: dict[int, MenuItem]) -> Order:
    order = open_order(session=session, store_id=store_id, table_no=table_no, lock=True)
    if order is None:
        raise OrderNotFound("존재하지 않는 주문", table_no=table_no)
    _set_lines(order, quantities, menu)
    session.flush()
    return order


def cancel_open_order(*, session: Session, store_id: int, table_no: int) -> Order | None:
    order = open_order(session=session, store_id=store_id, table_no=table_no, lock=True)
    if order is None:
        return None
    order.status = CANCELLED
    order.cancelled_at = func.now()
    order.updated_at = func.now()
    session.flush()
    return order


def get_order(*, session: Session, store_id: int, order_id: int, lock: bool = False,
              with_lines: bool = True) -> Order:
    if order_id > MAX_ID:
        raise OrderNotFound("존재하지 않는 주문")
    query = select(Order).where(Order.order_id == order_id, Order.store_id == store_id)
    if lock:
        query = query.with_for_update()
    order = session.scalar(_lines_if(query, with_lines))
    if order is None:
        raise OrderNotFound("존재하지 않는 주문")
    return order


def mark_paid(*, session: Session, store_id: int, order_id: int, sale_id: int, total_price: int,
              zone: zoneinfo.ZoneInfo) -> Order:
    """Close an open order for a sale and count its lines in the item days of its business day (in the
    store's time zone `zone`). Safe to call again for the same sale (answers the same, counts once)."""
    order = get_order(session=session, store_id=store_id, order_id=order_id, lock=True, with_lines=False)
    if order.status == PAID:
        if order.sale_id == sale_id:
            return order
        raise Conflict("이미 결제된 주문입니다.", error="order_already_paid", order_id=order_id)
    if order.status == CANCELLED:
        raise Conflict("취소된 주문입니다.", error="order_cancelled", order_id=order_id)
    if order.total_price != total_price:
        raise Conflict("주문 금액이 변경되었습니다.", error="order_total_changed",
                       order_total=order.total_price, payment_total=total_price)
    order.status = PAID
    order.sale_id = sale_id
    order.paid_at = func.now()
    order.updated_at = func.now()
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("이 결제는 이미 다른 주문에 쓰였습니다.", error="sale_already_used", sale_id=sale_id) from None
    item_days.add_paid_order(session=session, order_id=order_id, zone=zone)
    return order  # paid_at and updated_at are read back from the database when first used


# The POS reads its open tables on every screen: one statement built once (with bound parameters) for
# the orders and their lines, read as plain rows; ORM objects, a second (selectin) query for the lines
# and building the statement per request cost most of the order service's CPU for these reads.
_OPEN_ORDERS_WITH_LINES = (
    select(Order.order_id, Order.created_at, Order.table_no, Order.total_price,
           OrderLine.item_id, OrderLine.item_name, OrderLine.quantity, OrderLine.unit_price)
    .outerjoin(OrderLine, OrderLine.order_id == Order.order_id)
    .where(Order.store_id == bindparam("store_id", type_=Integer), Order.status == OPEN)
    .order_by(Order.table_no, OrderLine.line_id))
_OPEN_ORDER_OF_TABLE_WITH_LINES = _OPEN_ORDERS_WITH_LINES.where(Order.table_no == bindparam("table_no", type_=Integer))


def open_order_views(*, session: Session, store_id: int, table_no: int | None = None) -> list[dict]:
    """order_view() of each open order of the store (or of its one table), by table, read as rows."""
    if table_no is None:
        rows = session.execute(_OPEN_ORDERS_WITH_LINES, {"store_id": store_id})
    else:
        rows = session.execute(_OPEN_ORDER_OF_TABLE_WITH_LINES, {"store_id": store_id, "table_no": table_no})
    views: dict[int, dict] = {}
    for row in rows:
        view = views.get(row.order_id)
        if view is None:
            view = views[row.order_id] = {
                "order_id": row.order_id, "order_date": row.created_at.isoformat() if row.created_at else None,
                "table_no": row.table_no, "total_price": row.total_price, "carts": []}
        if row.item_id is not None:
            view["carts"].append({"item_id": row.item_id, "item_name": row.item_name, "quantity": row.quantity,
                                  "unit_price": row.unit_price})
    return list(views.values())


def order_view(order: Order) -> dict:
    return {
        "order_id": order.order_id,
        "order_date": order.created_at.isoformat() if order.created_at else None,
        "table_no": order.table_no,
        "total_price": order.total_price,
        "carts": [
            {"item_id": line.item_id, "item_name": line.item_name, "quantity": line.quantity,
             "unit_price": line.unit_price}
            for line in order.lines
        ],
    }


def lines_view(order: Order) -> dict:
    """The order with its lines as ordered (contracts.orders.PaidOrderLines), for a refund to record."""
    return PaidOrderLines(
        order_id=order.order_id,
        status=order.status,
        sale_id=order.sale_id,
        paid_at=order.paid_at.isoformat() if order.paid_at else None,
        lines=[OrderLineSold(item_id=line.item_id, name=line.item_name, quantity=line.quantity,
                             unit_price=line.unit_price) for line in order.lines],
    ).model_dump(mode="json")


def payment_view(order: Order) -> dict:
    """The order as the sale service reads it (contracts.orders.OrderPayment)."""
    return OrderPayment(
        order_id=order.order_id,
        table_no=order.table_no,
        status=order.status,
        total_price=order.total_price,
        sale_id=order.sale_id,
        paid_at=order.paid_at.isoformat() if order.paid_at else None,
    ).model_dump(mode="json")
