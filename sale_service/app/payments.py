"""Paying a table: the sale and the closed order are one outcome across two services.

1. A pending sale is committed first (a checkpoint of the request's unit of work); a partial
   unique index allows one live sale per order.
2. The order service closes the order for that sale id; the call is idempotent.
3. The sale is marked completed.
A crash after 1 leaves a pending sale whose order is open or already closed for it; the
reconciler (reconciler.py) or a retry of the payment finishes it, so a table is never paid
without a sale and a sale never stays completed for an open table. While one request holds the
pending sale (row lock), a concurrent payment of the same table answers 409.
"""
from __future__ import annotations

import datetime
from http import HTTPStatus

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from salesync_common.contracts.orders import OrderPayment
from salesync_common.errors import Conflict, NotFound
from salesync_common.failpoints import delay_point, failpoint
from salesync_common.idempotency import KEPT_FOR, key_reused
from salesync_common.metrics import PAYMENTS
from salesync_common.service_client import ServiceClient
from salesync_common.unit_of_work import UnitOfWork

from . import revenue, revenue_days
from .models import COMPLETED, FAILED, PENDING, Sale


class PaymentInProgress(Conflict):
    error = "payment_in_progress"


# A pending sale that another request created this recently is still that request's to finish:
# between its commit and its row lock a second terminal could otherwise lock and finish it, and
# both cashiers would be told "paid". Older, it was cut off (a crash) and anyone may finish it.
CREATOR_GRACE = datetime.timedelta(seconds=2)


def open_order_of_table(*, client: ServiceClient, table_no: int) -> OrderPayment:
    reply = client.get("order", f"/internal/orders/open/{table_no}")
    if reply.status == HTTPStatus.NOT_FOUND:
        raise NotFound("결제할 주문이 없는 테이블입니다.", error="no_open_order", table_no=table_no)
    return reply.parsed(OrderPayment, error="order_lookup_failed", message="order lookup failed")


def pay_table(*, unit: UnitOfWork, client: ServiceClient, store_id: int, table_no: int,
              payment_method: str, client_total: int, idempotency_key: str | None = None) -> Sale:
    session = unit.session
    # A retry of a payment that a crash cut off: its sale may be pending or already finished
    # by the reconciler, and the table then has no open order any more.
    earlier = _resumed_by_key(unit=unit, client=client, store_id=store_id, table_no=table_no,
                              client_total=client_total, idempotency_key=idempotency_key)
    if earlier is not None:
        return earlier
    unit.checkpoint("the key's sale is looked up: no transaction stays open while the order service answers")
    try:
        order = open_order_of_table(client=client, table_no=table_no)
    except NotFound:
        # A request with the same key, running beside this one (its key is claimed before either asks
        # the order service), may have paid the table meanwhile: answer with that payment.
        earlier = _resumed_by_key(unit=unit, client=client, store_id=store_id, table_no=table_no,
                                  client_total=client_total, idempotency_key=idempotency_key)
        if earlier is None:
            raise
        return earlier
    delay_point("sale.after_order_lookup")
    if client_total != order.total_price:
        raise Conflict("결제 금액이 주문 금액과 다릅니다.", error="total_mismatch",
                       order_total=order.total_price, payment_total=client_total)

    # Step 1: the pending sale exists before the table is closed. A live sale of the order (a retry,
    # or a payment running at the same time) is resumed instead; the unique index decides which.
    sale_id = session.scalar(
        insert(Sale).values(store_id=store_id, order_id=order.order_id, table_no=table_no,
                            total_price=order.total_price, payment_method=payment_method, status=PENDING,
                            idempotency_key=idempotency_key,
                            # The moment of the insert, not the start of the transaction (a keyed request's
                            # began before the order lookup): CREATOR_GRACE is counted from here.
                            created_at=func.clock_timestamp())
        .on_conflict_do_nothing(index_elements=[Sale.order_id], index_where=Sale.status != FAILED)
        .returning(Sale.sale_id))
    unit.checkpoint("the pending sale exists before the order service closes the table")
    created_here, own_key = sale_id is not None, False
    if created_here:
        failpoint("sale.after_pending_sale")
    else:
        live = session.execute(select(Sale.sale_id, Sale.idempotency_key)
                               .where(Sale.order_id == order.order_id, Sale.status != FAILED)).first()
        if live is None:  # it failed between the two statements: its order changed
            raise PaymentInProgress("이 테이블의 결제가 진행 중입니다.", table_no=table_no)
        # A request with this same key, running beside this one, made it: its payment is this one's
        # (answered as a retry, not as another terminal's "already paid").
        sale_id, own_key = live.sale_id, idempotency_key is not None and live.idempotency_key == idempotency_key
    return _resume(unit=unit, client=client, sale_id=sale_id, created_here=created_here, own_key=own_key)


def _resumed_by_key(*, unit: UnitOfWork, client: ServiceClient, store_id: int, table_no: int, client_total: int,
                    idempotency_key: str | None) -> Sale | None:
    """The live sale an earlier request with this key made, finished or resumed; None if there is none."""
    if idempotency_key is None:
        return None
    earlier = unit.session.execute(select(Sale.sale_id, Sale.table_no, Sale.total_price).where(
        Sale.store_id == store_id, Sale.idempotency_key == idempotency_key, Sale.status != FAILED,
        Sale.created_at > func.now() - KEPT_FOR).order_by(Sale.sale_id.desc()).limit(1)).first()
    if earlier is None:
        return None
    if (earlier.table_no, earlier.total_price) != (table_no, client_total):
        raise key_reused(sale_id=earlier.sale_id)
    return _resume(unit=unit, client=client, sale_id=earlier.sale_id, created_here=False, own_key=True)


def _resume(*, unit: UnitOfWork, client: ServiceClient, sale_id: int, created_here: bool,
            own_key: bool = False) -> Sale:
    """Finish a pending sale: one this request created, or found by its own Idempotency-Key (a retry),
    or another request's that was cut off."""
    session = unit.session
    if not created_here:
        # Checked before locking: even a brief lock here could make its creator's NOWAIT lock fail,
        # and its cashier would be told "in progress" for a payment the reconciler then completes.
        status, age = session.execute(select(Sale.status, func.now() - Sale.created_at)
                                      .where(Sale.sale_id == sale_id)).one()
        if status == PENDING and age < CREATOR_GRACE:
            raise PaymentInProgress("이 테이블의 결제가 진행 중입니다.", sale_id=sale_id)
    sale = _lock(session, sale_id)
    if sale.status == COMPLETED and not (created_here or own_key):
        # Another terminal's payment finished it while this one waited: only that one was paid.
        raise Conflict("이미 결제된 주문입니다.", error="already_paid", sale_id=sale_id)
    if sale.status == COMPLETED:
        return sale
    if sale.status == FAILED:  # failed meanwhile (its order was cancelled): say why, as finish() does
        raise Conflict("결제 등록 실패: 주문 상태가 바뀌었습니다.", error=sale.failure_reason, sale_id=sale.sale_id)
    return finish(unit=unit, client=client, sale=sale)


def _lock(session: Session, sale_id: int) -> Sale:
    """Hold the sale while its table is closed; a second request for it answers 409 at once."""
    try:
        return session.scalar(select(Sale).where(Sale.sale_id == sale_id)
                              .with_for_update(nowait=True).execution_options(populate_existing=True))
    except OperationalError:
        raise PaymentInProgress("이 테이블의 결제가 진행 중입니다.") from None


def finish(*, unit: UnitOfWork, client: ServiceClient, sale: Sale, token: str | None = None) -> Sale:
    """Steps 2 and 3 for a locked pending sale. Transport failures leave it pending for a retry."""
    session = unit.session
    unit.hold_across_call("the sale's row lock keeps a second terminal from completing it while its table is closed")
    reply = client.post("order", f"/internal/orders/{sale.order_id}/pay",
                        json={"sale_id": sale.sale_id, "total_price": sale.total_price}, token=token)
    failpoint("sale.after_order_closed")
    if reply.ok:
        # The closed order, read with its contract; a reply of another shape is a 502 and the sale stays pending.
        reply.parsed(OrderPayment)
        sale.status = COMPLETED
        sale.completed_at = func.now()
        session.flush()
        revenue_days.add_payment(session=session, sale_id=sale.sale_id,
                                 zone=revenue.store_zone(client=client, token=token))
        PAYMENTS.labels(sale.payment_method).inc()
        return sale
    reason = (reply.body or {}).get("error", f"order service answered {reply.status}")
    sale.status = FAILED
    sale.failure_reason = reason[:200]
    unit.checkpoint("a sale whose order refused it stays failed although the request answers 409")
    raise Conflict("결제 등록 실패: 주문 상태가 바뀌었습니다.", error=reason, sale_id=sale.sale_id)
