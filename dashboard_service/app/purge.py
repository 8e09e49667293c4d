"""What the purge (salesync_common/purge.py) deletes from the dashboard schema: dead letters past
their keeping time (long enough to look into them). Settlements are the shop's records: never."""
from __future__ import annotations

import datetime

from sqlalchemy import func

from salesync_common.purge import Purge
from salesync_common.settings import Settings

from .models import DeadLetter


def purges(settings: Settings) -> list[Purge]:
    kept = datetime.timedelta(days=settings.purge_dead_letters_after_days)
    return [Purge(DeadLetter.__table__, DeadLetter.dead_lettered_at < func.now() - kept)]
