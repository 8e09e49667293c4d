"""Finishes payments a crash or an outage interrupted, in the background of every sale service process; and
gives refunds recorded before refunds kept their order's lines those lines."""
from __future__ import annotations

import datetime
import logging
import threading

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from salesync_common.errors import ApiError, Conflict
from salesync_common.service_client import ServiceClient
from salesync_common.tokens import issue_token
from salesync_common.unit_of_work import UnitOfWork

from . import payments, refund_days, revenue
from .models import PENDING, Refund, Sale, db

log = logging.getLogger(__name__)


def reconcile_pending(*, session: Session, client: ServiceClient, jwt_secret: str,
                      older_than: datetime.timedelta = datetime.timedelta(seconds=30), limit: int = 100) -> dict:
    """Finish payments a crash or an outage interrupted. Safe to run in many processes at once."""
    outcome = {"completed": 0, "failed": 0, "still_pending": 0}
    with UnitOfWork(session):
        candidates = session.scalars(
            select(Sale.sale_id).where(Sale.status == PENDING, Sale.created_at < func.now() - older_than)
            .order_by(Sale.sale_id).limit(limit)).all()
    for sale_id in candidates:
        with UnitOfWork(session) as unit:
            sale = session.scalar(select(Sale).where(Sale.sale_id == sale_id, Sale.status == PENDING)
                                  .with_for_update(skip_locked=True).execution_options(populate_existing=True))
            if sale is None:
                continue
            token = issue_token(store_id=sale.store_id, secret=jwt_secret, ttl_seconds=60)
            try:
                payments.finish(unit=unit, client=client, sale=sale, token=token)
                # One sale per transaction: a sale that cannot be finished now leaves the others finished.
                unit.commit()
                outcome["completed"] += 1
            except Conflict:
                outcome["failed"] += 1  # finish() already recorded why
            except ApiError as exc:
                outcome["still_pending"] += 1
                log.warning("sale %s still pending: %s", sale_id, exc.message)
    return outcome


def record_refund_lines(*, session: Session, client: ServiceClient, jwt_secret: str, limit: int = 100) -> dict:
    """Give the refunds recorded before refunds kept their order's lines those lines, so the reports take
    them out on their day as well. Safe to run in many processes at once."""
    outcome = {"recorded": 0, "not_yet": 0}
    with UnitOfWork(session):
        candidates = session.scalars(select(Refund.refund_id).where(Refund.order_paid_at.is_(None))
                                     .order_by(Refund.refund_id).limit(limit)).all()
    for refund_id in candidates:
        with UnitOfWork(session) as unit:
            found = session.execute(
                select(Refund, Sale).join(Sale, Sale.sale_id == Refund.sale_id)
                .where(Refund.refund_id == refund_id, Refund.order_paid_at.is_(None))
                .with_for_update(of=Refund, skip_locked=True).execution_options(populate_existing=True)).first()
            if found is None:
                continue
            refund, sale = found
            token = issue_token(store_id=sale.store_id, secret=jwt_secret, ttl_seconds=60)
            try:
                revenue.keep_lines(refund, revenue.paid_order_of(client=client, sale=sale, token=token))
                session.flush()
                # Only its lines are new: its amount was in the revenue days since it was booked (or backfilled).
                refund_days.add_refund(session=session, refund_id=refund_id,
                                       zone=revenue.store_zone(client=client, token=token))
                unit.commit()  # one refund per transaction, as for pending sales
                outcome["recorded"] += 1
            except ApiError as exc:
                outcome["not_yet"] += 1
                log.warning("refund %s: lines not recorded yet: %s", refund_id, exc.message)
    return outcome


def start_reconciler(app: Flask, interval_seconds: float) -> threading.Thread:
    settings = app.extensions["salesync_settings"]
    client = app.extensions["salesync_client"]
    stop = threading.Event()

    def loop():
        while not stop.wait(interval_seconds):
            try:
                with app.app_context():
                    outcome = reconcile_pending(session=db.session, client=client, jwt_secret=settings.jwt_secret)
                    if any(outcome.values()):
                        log.info("reconciled pending sales: %s", outcome)
                    recorded = record_refund_lines(session=db.session, client=client, jwt_secret=settings.jwt_secret)
                    if any(recorded.values()):
                        log.info("recorded the lines of earlier refunds: %s", recorded)
                    db.session.remove()
            except Exception:
                log.exception("reconciling pending sales failed; will try again")

    thread = threading.Thread(target=loop, name="sale-reconciler", daemon=True)
    thread.stop = stop
    thread.start()
    return thread
