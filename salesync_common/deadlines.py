"""A request's deadline: how long it may still take, carried from the BFF through every call it makes.

The BFF starts the clock (SALESYNC_REQUEST_DEADLINE_MS, or SALESYNC_REPORT_DEADLINE_MS for an owner's
report) and ignores any deadline a browser sends. Each call between services carries what is left as
DEADLINE_HEADER: whole milliseconds remaining when the call was sent, a relative budget, so the pods'
clocks need not agree. The service client waits at most that long for a reply and makes no call once
nothing is left. A service believes the header only on a request with a valid service token
(honour_caller_deadline runs after the token check) and refuses one that arrives with nothing left:
a JSON 504, before any work. Without the header (a worker's own call, a probe) there is no deadline
and each call has its own timeouts only.

The deadline is a context variable, so calls made in parallel (call_in_parallel) share it.
"""
from __future__ import annotations

import contextvars
import logging
import time

from flask import Flask, request

from .errors import UpstreamError

log = logging.getLogger(__name__)

DEADLINE_HEADER = "X-Request-Deadline-Ms"
# Less than this left cannot carry a call and its answer: the call is not made.
MIN_CALL_SECONDS = 0.005

# time.monotonic() at which the current request runs out; None: no deadline.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("salesync_deadline", default=None)


class DeadlineExceeded(UpstreamError):
    status = 504
    error = "deadline_exceeded"


def start(seconds: float) -> None:
    """The current request may take `seconds` from now (the BFF, per route)."""
    _deadline.set(time.monotonic() + seconds)


def remaining() -> float | None:
    """Seconds left to the current request (may be negative); None when it has no deadline."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def expired(what: str) -> DeadlineExceeded:
    return DeadlineExceeded(f"the request ran out of time {what}; try again", headers={"Retry-After": "1"})


def _clear() -> None:
    # A gunicorn thread serves many requests: none may inherit the last one's deadline.
    _deadline.set(None)


def _clear_after(_exc: BaseException | None = None) -> None:
    _clear()


def reset_per_request(app: Flask) -> None:
    """Every request starts without a deadline (installed by init_service)."""
    app.before_request(_clear)
    app.teardown_request(_clear_after)


def honour_caller_deadline() -> None:
    """Take over the calling service's remaining budget; 504 when it arrives with none left.

    Registered right after the service-token check (require_service_token), so only a Salesync service
    sets a deadline here; a health probe or the metrics scrape carries none.
    """
    raw = request.headers.get(DEADLINE_HEADER, "").strip()
    if not raw:
        return
    try:
        milliseconds = int(raw)
    except ValueError:
        log.warning("ignoring a %s header that is not whole milliseconds: %r", DEADLINE_HEADER, raw[:32])
        return
    if milliseconds <= 0:
        raise expired("before this service could start on it")
    start(milliseconds / 1000)
