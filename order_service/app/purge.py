"""What the purge (salesync_common/purge.py) deletes from the order schema: idempotency keys past
their day (a client retries within minutes). Orders and their lines are the shop's records: never."""
from __future__ import annotations

import datetime

from sqlalchemy import func

from salesync_common.purge import Purge
from salesync_common.settings import Settings

from .models import IdempotencyKey


def purges(settings: Settings) -> list[Purge]:
    kept = datetime.timedelta(hours=settings.purge_idempotency_keys_after_hours)
    return [Purge(IdempotencyKey.__table__, IdempotencyKey.created_at < func.now() - kept)]
