"""What the purge (salesync_common/purge.py) deletes from the consulting schema: outbox rows
delivered a while ago, and jobs finished long ago. Unsent messages and unfinished jobs stay."""
from __future__ import annotations

import datetime

from sqlalchemy import func

from salesync_common.purge import Purge
from salesync_common.settings import Settings

from .models import FAILED, SUCCESS, ConsultingJob, OutboxMessage


def purges(settings: Settings) -> list[Purge]:
    delivered_kept = datetime.timedelta(days=settings.purge_outbox_after_days)
    finished_kept = datetime.timedelta(days=settings.purge_consulting_jobs_after_days)
    return [
        Purge(OutboxMessage.__table__,
              OutboxMessage.sent_at.is_not(None) & (OutboxMessage.sent_at < func.now() - delivered_kept)),
        Purge(ConsultingJob.__table__,
              ConsultingJob.status.in_((SUCCESS, FAILED)) & (ConsultingJob.finished_at < func.now() - finished_kept)),
    ]
