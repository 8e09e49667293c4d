"""The store's business day: dates are days in the store's own time zone (default Asia/Seoul), not UTC."""
from __future__ import annotations

import datetime
import threading
import time
import zoneinfo

from flask import current_app, has_app_context

from .contracts.stores import StoreCard
from .errors import ValidationFailed
from .field_types import iso_day
from .service_client import service_client
from .tokens import authenticated_store_id

MAX_PERIOD_DAYS = 366  # the default of SALESYNC_MAX_REPORT_DAYS


# A store's time zone changes seldom; remembering it a minute saves the POS screens a call per request.
ZONE_CACHE_SECONDS = 60.0
_zones: dict[int, tuple[zoneinfo.ZoneInfo, float]] = {}
_zones_lock = threading.Lock()


def store_time_zone() -> zoneinfo.ZoneInfo:
    """The caller's store time zone, from the store service with the forwarded token (cached a minute)."""
    store_id = authenticated_store_id()
    with _zones_lock:
        cached = _zones.get(store_id)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    store = service_client().get("store", "/internal/stores/me").parsed(
        StoreCard, error="store_lookup_failed", message="store lookup failed")
    zone = store.zone
    with _zones_lock:
        _zones[store_id] = (zone, time.monotonic() + ZONE_CACHE_SECONDS)
    return zone


def today_in(zone: zoneinfo.ZoneInfo, now: datetime.datetime | None = None) -> datetime.date:
    now = now or datetime.datetime.now(datetime.UTC)
    return now.astimezone(zone).date()


def day_start(day: datetime.date, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The instant a business day begins, as an aware datetime."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)


def period_bounds(start: datetime.date, end: datetime.date, zone: zoneinfo.ZoneInfo):
    """[from, to) instants covering the business days start..end inclusive."""
    return day_start(start, zone), day_start(end + datetime.timedelta(days=1), zone)


def parse_day(value: str | None, field: str) -> datetime.date:
    if not value:
        raise ValidationFailed(f"{field} is required (YYYY-MM-DD)", error="missing_field", field=field)
    try:
        return iso_day(value)
    except ValueError as exc:
        raise ValidationFailed(f"{field} {exc}", field=field) from None


def parse_period(start: str | None, end: str | None) -> tuple[datetime.date, datetime.date]:
    first, last = parse_day(start, "start"), parse_day(end, "end")
    if last < first:
        raise ValidationFailed("end must not be before start", field="end")
    limit = max_period_days()
    if (last - first).days >= limit:
        raise ValidationFailed(f"a period may cover at most {limit} days", field="end", max_days=limit)
    return first, last


def max_period_days() -> int:
    """The longest start..end a report answers (SALESYNC_MAX_REPORT_DAYS of the serving app)."""
    if has_app_context():
        settings = current_app.extensions.get("salesync_settings")
        if settings is not None:
            return settings.max_report_days
    return MAX_PERIOD_DAYS


def days_of(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]


def previous_period(start: datetime.date, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period of the same length that ends the day before start."""
    length = end - start + datetime.timedelta(days=1)
    return start - length, start - datetime.timedelta(days=1)
