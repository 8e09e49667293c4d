"""Throttles on password guesses, by the client address the BFF decided (salesync_common.service_auth).

- Login: 5 failures for one (username, address) within 15 minutes refuse that pair, even the right
  password, while the same username from another address still logs in (an attacker cannot lock the
  owner out); 20 failures from one address over any usernames refuse every login from it (spraying).
- Password check: 5 wrong answers for one (store, address) within 15 minutes refuse it.

Checking and recording are one step: under a lock per address, an attempt is counted, and if it may go
on, recorded as a failure and committed before its password is compared; only a right password takes
its record back. So ten guesses at once find each other's records, and no more than the limit get a
password compared. Failures are rows in the database, so every worker and replica sees the same count.
"""
from __future__ import annotations

import dataclasses
import datetime
import math

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from salesync_common.errors import TooManyRequests
from salesync_common.settings import Settings
from salesync_common.unit_of_work import UnitOfWork

from .models import LoginFailure, PasswordCheckFailure


@dataclasses.dataclass(frozen=True)
class Limits:
    login_per_pair: int = 5
    login_per_address: int = 20
    pwcheck_per_pair: int = 5
    window: datetime.timedelta = datetime.timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(login_per_pair=settings.login_max_failures,
                   login_per_address=settings.login_max_failures_per_address,
                   pwcheck_per_pair=settings.pwcheck_max_failures,
                   window=datetime.timedelta(seconds=settings.auth_failure_window_seconds))


def _lock(session: Session, key: str) -> None:
    """Serialise the count-and-record of one address until this transaction ends (commit or rollback)."""
    session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def _seconds_until_below(session: Session, model, conditions, *, limit: int, window: datetime.timedelta) -> int:
    """0 while fewer than `limit` failures match within the window, else seconds until the oldest counted leaves it."""
    limit_th_latest = session.execute(
        select(model.failed_at, func.now())
        .where(*conditions, model.failed_at > func.now() - window)
        .order_by(model.failed_at.desc())
        .offset(limit - 1)
        .limit(1)
    ).first()
    if limit_th_latest is None:
        return 0
    failed_at, now = limit_th_latest
    return max(1, math.ceil((failed_at + window - now).total_seconds()))


def _refuse(wait: int, *, message: str, error: str) -> None:
    if wait:
        raise TooManyRequests(message, error=error, headers={"Retry-After": str(wait)}, retry_after=wait)


def reserve_login(*, unit: UnitOfWork, username: str, address: str, limits: Limits) -> None:
    """429 when the pair or the address has used its failures; else one failure recorded and committed."""
    session = unit.session
    _lock(session, f"login:{address}")
    pair = [LoginFailure.username == username, LoginFailure.address == address]
    wait = max(
        _seconds_until_below(session, LoginFailure, pair, limit=limits.login_per_pair, window=limits.window),
        _seconds_until_below(session, LoginFailure, [LoginFailure.address == address],
                             limit=limits.login_per_address, window=limits.window),
    )
    _refuse(wait, message="too many failed logins; try again later", error="login_throttled")
    session.execute(delete(LoginFailure).where(LoginFailure.address == address,
                                               LoginFailure.failed_at <= func.now() - limits.window))
    session.add(LoginFailure(username=username, address=address))
    unit.checkpoint("a login attempt counts as failed until its password is right: counted and recorded at once")


def login_succeeded(*, session: Session, username: str, address: str) -> None:
    """The right password: this attempt's record and the pair's earlier failures go."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.address == address))


def reserve_password_check(*, unit: UnitOfWork, store_id: int, address: str, limits: Limits) -> None:
    session = unit.session
    _lock(session, f"pwcheck:{store_id}:{address}")
    conditions = [PasswordCheckFailure.store_id == store_id, PasswordCheckFailure.address == address]
    _refuse(_seconds_until_below(session, PasswordCheckFailure, conditions, limit=limits.pwcheck_per_pair,
                                 window=limits.window),
            message="too many wrong passwords; try again later", error="pwcheck_throttled")
    session.execute(delete(PasswordCheckFailure).where(
        *conditions, PasswordCheckFailure.failed_at <= func.now() - limits.window))
    session.add(PasswordCheckFailure(store_id=store_id, address=address))
    unit.checkpoint("a password check counts as wrong until its password is right: counted and recorded at once")


def password_check_succeeded(*, session: Session, store_id: int, address: str) -> None:
    session.execute(delete(PasswordCheckFailure).where(PasswordCheckFailure.store_id == store_id,
                                                       PasswordCheckFailure.address == address))
