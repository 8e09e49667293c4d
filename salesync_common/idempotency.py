"""Idempotency-Key support for write routes (POST/PUT orders, POST sales).

The key is stored per store in the service's own `idempotency_keys` table. It is claimed (and
committed, unfinished) before the view runs, since the views call other services and no transaction
may stay open across such a call; the view's writes and the response are then committed together:
- the same key with the same request replays the first response (header Idempotent-Replayed: true);
- the same key with a different request answers 422;
- while the first request with that key is still running, a duplicate answers 409.
A request that fails with an error forgets its key, so it can be retried with the same key.
A key whose request died half-way (no response after ABANDONED_AFTER) may be run again;
the routes that use it are written to resume safely. A route that can itself tell a live first
request from a dead one (the sale's row lock) passes a shorter `taken_over_after`.
"""
from __future__ import annotations

import datetime
import functools
import hashlib
import json
import re
from http import HTTPStatus

from flask import Response, current_app, make_response, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Index, Integer, String, delete, func, select, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from .database import LOCK_NOT_AVAILABLE
from .errors import ApiError, Conflict, ValidationFailed
from .tokens import authenticated_store_id
from .unit_of_work import UnitOfWork, request_unit, unit_of_work

HEADER = "Idempotency-Key"
ABANDONED_AFTER = datetime.timedelta(seconds=30)
# A key means something for a day (a client retries within minutes); the purge (purge.py) deletes older ones,
# after SALESYNC_PURGE_IDEMPOTENCY_KEYS_AFTER_HOURS (24), in batches, off the POS path.
KEPT_FOR = datetime.timedelta(hours=24)
_SANE_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def make_idempotency_model(db: SQLAlchemy):
    class IdempotencyKey(db.Model):
        __tablename__ = "idempotency_keys"
        # The purge (salesync_common/purge.py) finds keys past their day by this index.
        __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

        store_id: Mapped[int] = mapped_column(Integer, primary_key=True)
        key: Mapped[str] = mapped_column(String(255), primary_key=True)
        request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
        response_status: Mapped[int | None] = mapped_column(Integer)
        response_body: Mapped[dict | None] = mapped_column(JSONB)
        created_at: Mapped[datetime.datetime] = mapped_column(
            DateTime(timezone=True), nullable=False, server_default=func.now())

    return IdempotencyKey


def request_fingerprint() -> str:
    try:
        body = json.dumps(request.get_json(silent=True), sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        body = request.get_data(as_text=True)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(db: SQLAlchemy, model, taken_over_after: datetime.timedelta | None = None):
    """Wrap a write view: the unit of work (unit_of_work.py) plus the key record, which is written
    in the same transaction as the view's changes and committed with them.

    taken_over_after: how long an unfinished key (its request committed mid-way, then went silent)
    answers 409 before a retry may run the view again; ABANDONED_AFTER unless given. Zero means the
    view itself tells a live first request from a dead one: a retry then runs it at once, without
    locking the key row (the first request must still be able to record its response).
    """
    def decorator(view):
        plain = unit_of_work(db)(view)

        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return plain(*args, **kwargs)
            if not _SANE_KEY.match(key):
                raise ValidationFailed("Idempotency-Key must be 1 to 255 visible ASCII characters", field=HEADER)
            store_id = authenticated_store_id()
            fingerprint = request_fingerprint()
            owned = succeeded = False
            try:
                with request_unit(db) as unit:
                    replay, owned = _claim(db, model, store_id, key, fingerprint, taken_over_after=(
                        ABANDONED_AFTER if taken_over_after is None else taken_over_after))
                    if replay is not None:
                        return replay
                    unit.checkpoint("the key is claimed before the view calls other services outside a transaction")
                    response = unit.respond(view, *args, **kwargs, before_commit=functools.partial(
                        _record_response, db, model, store_id, key))
                    succeeded = response.status_code < HTTPStatus.BAD_REQUEST
                    return response
            finally:
                if owned and not succeeded:
                    _forget_unfinished(db, model, store_id, key)
        return wrapper
    return decorator


def _record_response(db, model, store_id: int, key: str, response: Response) -> None:
    db.session.execute(
        model.__table__.update()
        .where(model.store_id == store_id, model.key == key)
        .values(response_status=response.status_code, response_body=response.get_json())
    )


def _claim(db, model, store_id: int, key: str, fingerprint: str, *,
           taken_over_after: datetime.timedelta) -> tuple[Response | None, bool]:
    """Insert the key row, or take over an unfinished one; returns (the response to replay or None,
    whether this request now owns the row). A replay or a refusal writes nothing: the caller's unit
    of work rolls back.

    Only the request that owns the row (inserted it, or took over one whose request died) forgets it
    when it fails: a retry that was refused, or that runs beside a live first request
    (taken_over_after zero), must not delete that request's row."""
    session = db.session
    settings = current_app.extensions["salesync_settings"]
    try:
        # A duplicate that is still running holds the row: wait briefly, then answer 409.
        session.execute(text("SET LOCAL lock_timeout = '300ms'"))
        claimed = session.execute(
            insert(model).values(store_id=store_id, key=key, request_hash=fingerprint)
            .on_conflict_do_nothing().returning(model.key)
        ).first()
        if claimed is not None:
            # The claim is committed next, and SET LOCAL ends with it: no round trip to restore the timeout.
            return None, True
        session.execute(text(f"SET LOCAL lock_timeout = {int(settings.db_lock_timeout_ms)}"))
    except OperationalError as exc:
        # Only a lock not got in time is a duplicate still running; a database that is down or too slow
        # answers the 503 of database.py (retry later), not "in progress".
        if getattr(exc.orig, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        raise _in_progress() from None
    if claimed is not None:
        return None, True

    held = taken_over_after > datetime.timedelta(0)
    query = select(model, func.now()).where(model.store_id == store_id, model.key == key)
    row, now = session.execute(query.with_for_update(nowait=False) if held else query).one()
    if row.request_hash != fingerprint:
        raise key_reused()
    if row.response_status is not None:
        response = make_response(row.response_body, row.response_status)
        response.headers["Idempotent-Replayed"] = "true"
        return response, False
    if now - row.created_at < taken_over_after:
        raise _in_progress()
    if held:
        # The first request died half-way: take the key over and run again; the new time, committed with
        # the claim, makes a further duplicate answer 409 while this request runs.
        row.created_at = now
    return None, held


def _forget_unfinished(db, model, store_id: int, key: str) -> None:
    """A failed request may have committed its key row mid-way; remove it so a retry runs again."""
    with UnitOfWork(db.session) as unit:
        unit.session.execute(delete(model).where(
            model.store_id == store_id, model.key == key, model.response_status.is_(None)))
        unit.commit()


def key_reused(**extra) -> ApiError:
    return ApiError("this Idempotency-Key was already used for a different request",
                    status=422, error="idempotency_key_reused", **extra)


def _in_progress() -> Conflict:
    return Conflict("a request with this Idempotency-Key is still being processed",
                    error="idempotency_in_progress")
