"""Login throttling: after 5 failed logins for one username within 15 minutes, refuse for a while.

Failures are rows in the database, so every worker and replica sees the same count.
"""
from __future__ import annotations

import datetime
import math

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .models import LoginFailure

MAX_FAILURES = 5
WINDOW = datetime.timedelta(minutes=15)


def seconds_until_allowed(*, session: Session, username: str) -> int:
    """0 when a login may be tried now, else how many seconds the caller must wait."""
    since = func.now() - WINDOW
    fifth_latest = session.execute(
        select(LoginFailure.failed_at, func.now())
        .where(LoginFailure.username == username, LoginFailure.failed_at > since)
        .order_by(LoginFailure.failed_at.desc())
        .offset(MAX_FAILURES - 1)
        .limit(1)
    ).first()
    if fifth_latest is None:
        return 0
    failed_at, now = fifth_latest
    return max(1, math.ceil((failed_at + WINDOW - now).total_seconds()))


def record_failure(*, session: Session, username: str) -> None:
    session.execute(delete(LoginFailure).where(
        LoginFailure.username == username, LoginFailure.failed_at <= func.now() - WINDOW))
    session.add(LoginFailure(username=username))


def forget_failures(*, session: Session, username: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
