"""How many settlement messages may still go out: per store and business day, per store in any 24 hours,
per destination phone in any 24 hours (over all stores: many stores signed up with one victim's number
must not multiply the per-store limits), and per deployment per (UTC) day. Each limit is a setting
(SALESYNC_SMS_*) with the issue's default.

Every press that sends, tries to send or only records a text is one row of `settlements`, and every row
counts: an SMS whose publish timed out may still have reached the phone, and a text recorded today is sent
once the deployment has AWS credentials, so the limits behave the same in every environment.

Counting and adding the row happen under one transaction-scoped advisory lock: the lock is taken after
the figures are read, and released when the row is committed (before SNS is called) or the request is
refused. Settlement presses are few (1000 a day by default), so one lock for all of them costs nothing
and makes every count exact: ten presses at once cannot get past a limit together.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import math
import os
import zoneinfo
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from salesync_common.business_day import day_start, today_in
from salesync_common.errors import ApiError, TooManyRequests
from salesync_common.settings import int_setting

from .models import RECORDED, SENDING, SENT, Settlement

log = logging.getLogger(__name__)

WINDOW = datetime.timedelta(hours=24)
WARN_PERCENT = 80  # of the deployment's daily limit: the operator hears of it before presses are refused
_LOCK_KEY = "salesync-dashboard-settlement-sms"
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's code when lock_timeout (SALESYNC_DB_LOCK_TIMEOUT_MS) ran out


@dataclasses.dataclass(frozen=True)
class SmsLimits:
    max_days_back: int = 7          # SALESYNC_SMS_MAX_DAYS_BACK: oldest business day that may be settled
    per_business_day: int = 3       # SALESYNC_SMS_PER_BUSINESS_DAY: the first message and two resends
    per_store_24h: int = 10         # SALESYNC_SMS_PER_STORE_24H: one store, any 24 hours
    per_phone_24h: int = 10         # SALESYNC_SMS_PER_PHONE_24H: one destination number, any 24 hours, all stores
    daily_limit: int = 1000         # SALESYNC_SMS_DAILY_LIMIT: the whole deployment, per UTC day

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmsLimits:
        env = os.environ if env is None else env
        return cls(
            max_days_back=int_setting(env, "SALESYNC_SMS_MAX_DAYS_BACK", cls.max_days_back, minimum=0),
            per_business_day=int_setting(env, "SALESYNC_SMS_PER_BUSINESS_DAY", cls.per_business_day, minimum=1),
            per_store_24h=int_setting(env, "SALESYNC_SMS_PER_STORE_24H", cls.per_store_24h, minimum=1),
            per_phone_24h=int_setting(env, "SALESYNC_SMS_PER_PHONE_24H", cls.per_phone_24h, minimum=1),
            daily_limit=int_setting(env, "SALESYNC_SMS_DAILY_LIMIT", cls.daily_limit, minimum=1),
        )


class DailyLimitReached(ApiError):
    status = 503
    error = "sms_daily_limit"


class Busy(ApiError):
    status = 503
    error = "settlement_busy"


def _refusal(kind: type[ApiError], message: str, *, error: str, wait: int) -> ApiError:
    return kind(message, error=error, headers={"Retry-After": str(wait)}, retry_after=wait)


def take_turn(session: Session, *, store_id: int, day: datetime.date, resend: bool, limits: SmsLimits,
              zone: zoneinfo.ZoneInfo, phone: str | None) -> Settlement | None:
    """Under the lock: None when one more message of the day may be added now (the caller adds it in this
    transaction), or the earlier settlement a plain press answers instead; 429 or 503 when a limit is reached.
    phone: the E.164 number the text goes to (or would go to once AWS is configured), None when it can go
    to no phone (not a mobile number)."""
    _lock(session)
    now = session.scalar(select(func.clock_timestamp()))
    days_rows = session.scalars(select(Settlement).where(
        Settlement.store_id == store_id, Settlement.business_date == day).order_by(Settlement.settlement_id)).all()
    if not resend:
        first_sms = next((row for row in days_rows if row.status in (SENDING, SENT) and not row.resend), None)
        if first_sms is not None:  # another press sent it while this one read the figures
            return first_sms
    if len(days_rows) >= limits.per_business_day:
        shown = next((row for row in days_rows if row.status in (SENDING, SENT, RECORDED)), None)
        if shown is not None and not resend:
            return shown
        wait = _seconds(day_start(today_in(zone, now) + datetime.timedelta(days=1), zone) - now)
        raise _refusal(TooManyRequests, f"이 날의 정산 메시지는 이미 {limits.per_business_day}건(처음 1건과 재전송 "
                       f"{limits.per_business_day - 1}건)을 보내서 더 보낼 수 없습니다.",
                       error="settlement_sms_day_limit", wait=wait)
    _check_store_window(session, store_id=store_id, now=now, limit=limits.per_store_24h)
    if phone is not None:
        _check_phone_window(session, phone=phone, now=now, limit=limits.per_phone_24h)
    _check_deployment_day(session, now=now, limit=limits.daily_limit)
    return None


def _lock(session: Session) -> None:
    try:
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(_LOCK_KEY))))
    except OperationalError as exc:
        if getattr(exc.orig, "pgcode", None) != _LOCK_NOT_AVAILABLE:
            raise
        raise _refusal(Busy, "정산 메시지 요청이 몰려 있습니다. 잠시 후 다시 시도하세요.", error="settlement_busy",
                       wait=1) from None


def _wait_in_window(session: Session, *, counted, now: datetime.datetime, limit: int) -> int:
    """0 while fewer than `limit` messages matching `counted` went within 24 hours, else the seconds until
    the limit-th newest of them leaves the window (then one more may go)."""
    oldest_counted = session.scalar(
        select(Settlement.created_at)
        .where(counted, Settlement.created_at > now - WINDOW)
        .order_by(Settlement.created_at.desc())
        .offset(limit - 1)
        .limit(1))
    return 0 if oldest_counted is None else _seconds(oldest_counted + WINDOW - now)


def _check_store_window(session: Session, *, store_id: int, now: datetime.datetime, limit: int) -> None:
    wait = _wait_in_window(session, counted=Settlement.store_id == store_id, now=now, limit=limit)
    if wait:
        raise _refusal(TooManyRequests, f"정산 메시지는 가게마다 24시간에 {limit}건까지 보낼 수 있습니다. "
                       f"{wait}초 후에 다시 시도하세요.", error="settlement_sms_store_limit", wait=wait)


def _check_phone_window(session: Session, *, phone: str, now: datetime.datetime, limit: int) -> None:
    """The same window for one destination number over every store. The rows of the last 24 hours are
    found through ix_settlements_created (there are at most a day's deployment limit of them)."""
    wait = _wait_in_window(session, counted=Settlement.phone == phone, now=now, limit=limit)
    if wait:
        log.info("settlement SMS refused: %d messages went to one phone number in 24 hours", limit)
        raise _refusal(TooManyRequests, f"같은 전화번호로는 24시간에 정산 메시지를 {limit}건까지 보낼 수 있습니다. "
                       f"{wait}초 후에 다시 시도하세요.", error="settlement_sms_phone_limit", wait=wait)


def sent_today(session: Session, *, now: datetime.datetime | None = None) -> int:
    """Settlement messages of the whole deployment since 00:00 UTC: what the daily limit counts."""
    return session.scalar(select(func.count()).select_from(Settlement).where(
        Settlement.created_at >= _utc_midnight(now or datetime.datetime.now(datetime.UTC))))


def _utc_midnight(now: datetime.datetime) -> datetime.datetime:
    return datetime.datetime.combine(now.astimezone(datetime.UTC).date(), datetime.time.min, tzinfo=datetime.UTC)


def _check_deployment_day(session: Session, *, now: datetime.datetime, limit: int) -> None:
    midnight = _utc_midnight(now)
    used = sent_today(session, now=now)
    if used >= limit:
        wait = _seconds(midnight + datetime.timedelta(days=1) - now)
        log.info("settlement SMS refused: the deployment's daily limit of %d messages is used up", limit)
        raise _refusal(DailyLimitReached, "오늘 보낼 수 있는 정산 메시지가 모두 소진되었습니다. 내일 다시 시도하세요.",
                       error="sms_daily_limit", wait=wait)
    if used + 1 == (limit * WARN_PERCENT + 99) // 100:
        log.warning("settlement SMS: %d of the deployment's daily limit of %d messages used (%d%%)",
                    used + 1, limit, WARN_PERCENT)
    elif used + 1 == limit:
        log.warning("settlement SMS: the deployment's daily limit of %d messages is reached; "
                    "further presses answer 503 until 00:00 UTC", limit)


def _seconds(delta: datetime.timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))
