"""One commit boundary: a request (or one pass of a loop) commits all of its changes or none.

Routes that write are wrapped in `@unit_of_work(db)` (or `@idempotent`, which is this unit plus
the key record): the view runs in one transaction, committed once if it answers below 400 and
rolled back on an exception or an error response. Service functions take the session, may flush,
and never commit. A function that must make part of its work permanent before the request ends
(a payment's pending sale before it calls the order service, a failed login that must count
although the request answers 400) takes the unit and calls `checkpoint(reason)`.
"""
from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from http import HTTPStatus

from flask import Response, g, make_response
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_G_KEY = "salesync_unit_of_work"


class UnitOfWork:
    """One transaction on a session. commit() makes it permanent; whatever is not committed when
    the `with` block ends (an exception, an error response, a loop pass given up) is rolled back."""

    def __init__(self, session: Session):
        self.session = session

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *exc_info) -> None:
        self.session.rollback()  # after a commit there is nothing left to undo

    def commit(self) -> None:
        self.session.commit()

    def checkpoint(self, reason: str) -> None:
        """Commit what was done so far, mid-way: it must persist even if the rest of the work fails."""
        log.debug("checkpoint: %s", reason)
        self.session.commit()

    def hold_across_call(self, reason: str) -> None:
        """Name a transaction that stays open while another service is called: a row lock that must
        keep a second request out until the call has answered. Every other call is made outside a
        transaction (checkpoint first). The hold is bounded twice: the service client's timeout ends
        the call, and PostgreSQL ends a transaction idle longer than SALESYNC_DB_IDLE_IN_TRANSACTION_
        TIMEOUT_MS (set at each transaction's start, database.py), releasing its locks."""
        log.debug("transaction held across a call: %s", reason)

    def respond(self, view: Callable, *args, before_commit: Callable[[Response], None] | None = None,
                **kwargs) -> Response:
        """Run a view: commit once if it answers below 400 (after before_commit has added its writes
        for that response), else roll back. An exception propagates; the `with` block rolls back."""
        response = make_response(view(*args, **kwargs))
        if response.status_code >= HTTPStatus.BAD_REQUEST:
            self.session.rollback()
            return response
        if before_commit is not None:
            before_commit(response)
        self.commit()
        return response


@contextlib.contextmanager
def request_unit(db: SQLAlchemy) -> Iterator[UnitOfWork]:
    """The unit of work of the current request; current_unit() hands it to the code that needs it."""
    unit = UnitOfWork(db.session)
    setattr(g, _G_KEY, unit)
    try:
        with unit:
            yield unit
    finally:
        g.pop(_G_KEY, None)


def current_unit() -> UnitOfWork:
    unit = g.get(_G_KEY)
    if unit is None:
        raise RuntimeError("no unit of work: wrap the view in @unit_of_work(db) or @idempotent(...)")
    return unit


def unit_of_work(db: SQLAlchemy):
    """Wrap a write view in one unit of work (see the module's docstring)."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            with request_unit(db) as unit:
                return unit.respond(view, *args, **kwargs)
        return wrapper
    return decorator
