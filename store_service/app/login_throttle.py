"""Throttles on password guesses, by the client address the BFF decided (salesync_common.service_auth).

- Login: 5 failures for one (username, address) within 15 minutes refuse that pair, even the right
  password, while the same username from another address still logs in (an attacker cannot lock the
  owner out); 20 failures from one address over any usernames refuse every login from it (spraying).
- Password check: 5 wrong answers for one (store, address) within 15 minutes refuse it.
- Sign-up: 10 successful sign-ups from one address within an hour refuse the next (each new store can text
  a phone nobody verified); only sign-ups that went through count.

Checking and recording are one step: under a lock per address, an attempt is counted, and if it may go
on, recorded as a failure and committed before its password is compared; only a right password takes
its record back. So ten guesses at once find each other's records, and no more than the limit get a
password compared. Failures are rows in the database, so every worker and replica sees the same count.
When the lock is not had within SALESYNC_AUTH_LOCK_WAIT_MS (2 s; a flood from one address), the attempt
answers 503 with Retry-After: 1 and is not counted.
"""
from __future__ import annotations

import dataclasses
import datetime
import math

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from salesync_common.errors import ApiError, TooManyRequests
from salesync_common.settings import Settings
from salesync_common.unit_of_work import UnitOfWork

from .models import LoginFailure, PasswordCheckFailure, SignUpRecord

_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's code when the lock_timeout ran out


class Busy(ApiError):
    status = 503
    error = "auth_busy"


@dataclasses.dataclass(frozen=True)
class Limits:
    login_per_pair: int = 5
    login_per_address: int = 20
    pwcheck_per_pair: int = 5
    window: datetime.timedelta = datetime.timedelta(minutes=15)
    signup_per_address: int = 10
    signup_window: datetime.timedelta = datetime.timedelta(hours=1)
    # How long a request waits for its address's turn before answering 503: shorter than the BFF's read
    # timeout, so the client gets the 503 and its Retry-After rather than the BFF's 504.
    lock_wait_ms: int = 2000

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(login_per_pair=settings.login_max_failures,
                   login_per_address=settings.login_max_failures_per_address,
                   pwcheck_per_pair=settings.pwcheck_max_failures,
                   window=datetime.timedelta(seconds=settings.auth_failure_window_seconds),
                   signup_per_address=settings.signup_max_per_address,
                   signup_window=datetime.timedelta(seconds=settings.signup_window_seconds),
                   lock_wait_ms=settings.auth_lock_wait_ms)


def _lock(session: Session, key: str, *, wait_ms: int) -> None:
    """Serialise the count-and-record of one address until this transaction ends (commit or rollback)."""
    try:
        session.execute(text(f"SET LOCAL lock_timeout = {int(wait_ms)}"))
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    except OperationalError as exc:
        if getattr(exc.orig, "pgcode", None) != _LOCK_NOT_AVAILABLE:
            raise
        raise Busy("요청이 몰려 있습니다. 잠시 후 다시 시도하세요.", headers={"Retry-After": "1"},
                   retry_after=1) from None


def _seconds_until_below(session: Session, stamp, conditions, *, limit: int, window: datetime.timedelta) -> int:
    """0 while fewer than `limit` rows match within the window (by their `stamp` column), else seconds until
    the oldest counted leaves it."""
    limit_th_latest = session.execute(
        select(stamp, func.now())
        .where(*conditions, stamp > func.now() - window)
        .order_by(stamp.desc())
        .offset(limit - 1)
        .limit(1)
    ).first()
    if limit_th_latest is None:
        return 0
    counted_at, now = limit_th_latest
    return max(1, math.ceil((counted_at + window - now).total_seconds()))


def _refuse(wait: int, *, message: str, error: str) -> None:
    if wait:
        raise TooManyRequests(message, error=error, headers={"Retry-After": str(wait)}, retry_after=wait)


def reserve_login(*, unit: UnitOfWork, username: str, address: str, limits: Limits) -> None:
    """429 when the pair or the address has used its failures; else one failure recorded and committed."""
    session = unit.session
    _lock(session, f"login:{address}", wait_ms=limits.lock_wait_ms)
    pair = [LoginFailure.username == username, LoginFailure.address == address]
    wait = max(
        _seconds_until_below(session, LoginFailure.failed_at, pair, limit=limits.login_per_pair, window=limits.window),
        _seconds_until_below(session, LoginFailure.failed_at, [LoginFailure.address == address],
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
    _lock(session, f"pwcheck:{store_id}:{address}", wait_ms=limits.lock_wait_ms)
    conditions = [PasswordCheckFailure.store_id == store_id, PasswordCheckFailure.address == address]
    _refuse(_seconds_until_below(session, PasswordCheckFailure.failed_at, conditions, limit=limits.pwcheck_per_pair,
                                 window=limits.window),
            message="too many wrong passwords; try again later", error="pwcheck_throttled")
    session.execute(delete(PasswordCheckFailure).where(
        *conditions, PasswordCheckFailure.failed_at <= func.now() - limits.window))
    session.add(PasswordCheckFailure(store_id=store_id, address=address))
    unit.checkpoint("a password check counts as wrong until its password is right: counted and recorded at once")


def password_check_succeeded(*, session: Session, store_id: int, address: str) -> None:
    session.execute(delete(PasswordCheckFailure).where(PasswordCheckFailure.store_id == store_id,
                                                       PasswordCheckFailure.address == address))


def record_sign_up(*, session: Session, address: str, limits: Limits) -> None:
    """429 when the address signed up its limit of stores within the window; else this sign-up is counted in
    the transaction that creates the store (a sign-up that fails takes its record back with it)."""
    _lock(session, f"signup:{address}", wait_ms=limits.lock_wait_ms)
    _refuse(_seconds_until_below(session, SignUpRecord.signed_up_at, [SignUpRecord.address == address],
                                 limit=limits.signup_per_address, window=limits.signup_window),
            message=f"이 주소에서는 {int(limits.signup_window.total_seconds()) // 60}분 동안 매장을 "
                    f"{limits.signup_per_address}개까지 등록할 수 있습니다. 잠시 후 다시 시도하세요.",
            error="signup_throttled")
    session.execute(delete(SignUpRecord).where(SignUpRecord.address == address,
                                               SignUpRecord.signed_up_at <= func.now() - limits.signup_window))
    session.add(SignUpRecord(address=address))
