"""Consulting jobs: created by a request, worked out by the worker, announced through the outbox.

start_job and create_job only flush: the route's unit of work commits them. The worker's steps
below (claim, finish, postpone, release) are transactions of the worker's loop, each committed
where it ends.

A store may have at most `max_unfinished` unfinished jobs and start at most `per_hour` jobs in any
hour (Quota); asking again for a period whose job is unfinished answers that job. The checks and
the insert run under a lock of the store held until the request's transaction ends, so parallel
requests of one store are counted one after another. Workers take jobs by turn: a store's jobs get
successive turns starting from the lowest waiting turn, so stores are served round-robin.

A job is claimed with a lease. A job whose lease ran out (its worker died mid-job) is
claimed again, at most MAX_ATTEMPTS times in all; then it fails with a reason. Every
finish is fenced by the claim's attempt number, so a worker that lost its claim cannot
overwrite the outcome of the one that took over, nor announce a second result. An order, sale or
item service that cannot be reached postpones the job (its lease is shortened to a delay) instead of
failing it, until the last attempt. The status says "success" only once the result is on the Kafka
topic, so the dashboard can have it.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import math
import uuid

from openai import OpenAI
from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.orm import Session

from salesync_common.business_day import MAX_PERIOD_DAYS
from salesync_common.contracts.consulting import ConsultingResultMessage
from salesync_common.errors import NotFound, TooManyRequests
from salesync_common.kafka_client import CONSULTING_TOPIC
from salesync_common.service_client import ServiceClient

from . import figures, outbox
from .advice import Advice, AdviceFailed, ModelSettings, advise
from .models import FAILED, MAX_REASON, PENDING, RUNNING, SUCCESS, ConsultingJob

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A service that is down (a restart, a deploy) is asked again after these delays, by attempt.
RETRY_DELAYS = {1: datetime.timedelta(seconds=5), 2: datetime.timedelta(seconds=20)}
UNEXPECTED_FAILURE = "컨설팅 중 예기치 않은 오류가 발생했습니다"
POSTPONED = "postponed"  # process_job's answer for a job that will be tried again later
UNFINISHED = (PENDING, RUNNING)
HOUR = datetime.timedelta(hours=1)
# When a store has its fill of unfinished jobs: a claimed job takes seconds, so ask again shortly.
BUSY_RETRY_SECONDS = 10
# The first key of the per-store advisory lock (the second is the store id), apart from other locks.
QUOTA_LOCK = "salesync-consulting-quota"


class JobNotFound(NotFound):
    error = "consulting_not_found"


@dataclasses.dataclass(frozen=True)
class Quota:
    max_unfinished: int = 3
    per_hour: int = 20


class QuotaReached(TooManyRequests):
    def __init__(self, message: str, *, error: str, wait: int):
        super().__init__(message, error=error, headers={"Retry-After": str(wait)}, retry_after=wait)


def start_job(*, session: Session, store_id: int, start: datetime.date, end: datetime.date,
              quota: Quota) -> ConsultingJob:
    """The store's unfinished job over this period, else a new job if the store's quota allows it."""
    _lock_store(session, store_id)
    same = session.scalar(
        select(ConsultingJob)
        .where(ConsultingJob.store_id == store_id, ConsultingJob.status.in_(UNFINISHED),
               ConsultingJob.start_date == start, ConsultingJob.end_date == end)
        .order_by(ConsultingJob.turn).limit(1))
    if same is not None:
        return same
    wait = _seconds_until_hour_allows(session, store_id, quota.per_hour)
    if wait:
        raise QuotaReached(f"컨설팅은 한 시간에 {quota.per_hour}건까지 요청할 수 있습니다. "
                           f"{wait}초 뒤에 다시 요청하세요.", error="consulting_hourly_limit", wait=wait)
    unfinished = session.scalar(select(func.count()).where(ConsultingJob.store_id == store_id,
                                                           ConsultingJob.status.in_(UNFINISHED)))
    if unfinished >= quota.max_unfinished:
        raise QuotaReached(f"진행 중인 컨설팅이 {unfinished}건 있어 더 요청할 수 없습니다. "
                           "진행 중인 컨설팅이 끝난 뒤 다시 요청하세요.", error="consulting_busy",
                           wait=BUSY_RETRY_SECONDS)
    return _insert_job(session, store_id, start, end)


def create_job(*, session: Session, store_id: int, start: datetime.date, end: datetime.date) -> ConsultingJob:
    """A new job for the store, whatever its quota (tests and tools queue jobs with it)."""
    _lock_store(session, store_id)
    return _insert_job(session, store_id, start, end)


def _lock_store(session: Session, store_id: int) -> None:
    """Held until the transaction ends: one store's requests check and insert one at a time."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key), :store_id)"),
                    {"key": QUOTA_LOCK, "store_id": store_id})


def _seconds_until_hour_allows(session: Session, store_id: int, per_hour: int) -> int:
    """0 when the store started fewer than per_hour jobs in the last hour, else the seconds until the
    job that makes the hour full leaves the window."""
    found = session.execute(
        select(ConsultingJob.created_at, func.now())
        .where(ConsultingJob.store_id == store_id, ConsultingJob.created_at > func.now() - HOUR)
        .order_by(ConsultingJob.created_at.desc())
        .offset(per_hour - 1).limit(1)).first()
    if found is None:
        return 0
    created_at, now = found
    return max(1, math.ceil((created_at + HOUR - now).total_seconds()))


def _insert_job(session: Session, store_id: int, start: datetime.date, end: datetime.date) -> ConsultingJob:
    """The job takes the turn after the store's last unfinished one, and no earlier than the lowest
    waiting turn of all: a store that queued many jobs waits for the others between its own."""
    lowest = session.scalar(select(func.min(ConsultingJob.turn)).where(ConsultingJob.status == PENDING))
    own_last = session.scalar(select(func.max(ConsultingJob.turn))
                              .where(ConsultingJob.store_id == store_id, ConsultingJob.status.in_(UNFINISHED)))
    turn = max(lowest or 0, -1 if own_last is None else own_last + 1)
    job = ConsultingJob(req_id=uuid.uuid4(), store_id=store_id, start_date=start, end_date=end, status=PENDING,
                        turn=turn)
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, store_id: int, req_id: str) -> ConsultingJob:
    """The store's job; an unknown id, a malformed one or another store's job is not found alike."""
    try:
        wanted = uuid.UUID(req_id)
    except ValueError:
        raise JobNotFound("컨설팅 요청이 없습니다.") from None
    job = session.scalar(select(ConsultingJob).where(ConsultingJob.req_id == wanted,
                                                     ConsultingJob.store_id == store_id))
    if job is None:
        raise JobNotFound("컨설팅 요청이 없습니다.")
    return job


def status_of(*, session: Session, store_id: int, req_id: str) -> dict:
    job = get_job(session=session, store_id=store_id, req_id=req_id)
    if job.status == FAILED:
        return {"result": "failed", "message": job.failure_reason, "error": "consulting_failed",
                "req_id": str(job.req_id)}
    if job.status == SUCCESS and outbox.is_sent(session=session, topic=CONSULTING_TOPIC, key=str(job.req_id)):
        return {"result": "success", "message": "컨설팅 완료", "req_id": str(job.req_id), "source": job.source}
    return {"result": "not completed", "message": "컨설팅 진행 중", "req_id": str(job.req_id)}


def claim_next_job(*, session: Session, lease: datetime.timedelta,
                   max_attempts: int = MAX_ATTEMPTS) -> ConsultingJob | None:
    """Take the pending job of the lowest turn (the oldest among equals), or a running one whose lease
    ran out; commits the claim."""
    while True:
        found = session.execute(
            select(ConsultingJob.req_id, ConsultingJob.attempts)
            .where(or_(ConsultingJob.status == PENDING,
                       and_(ConsultingJob.status == RUNNING, ConsultingJob.lease_until < func.now())))
            .order_by(ConsultingJob.turn, ConsultingJob.created_at, ConsultingJob.req_id).limit(1)
            .with_for_update(skip_locked=True)).first()
        if found is None:
            session.rollback()
            return None
        if found.attempts >= max_attempts:
            session.execute(
                update(ConsultingJob).where(ConsultingJob.req_id == found.req_id)
                .values(status=FAILED, lease_until=None, finished_at=func.now(),
                        failure_reason=f"컨설팅 작업이 {found.attempts}번 중단되어 더 시도하지 않습니다"))
            session.commit()  # given up for good, whatever becomes of the next claim
            log.warning("consulting job %s gave up after %s attempts", found.req_id, found.attempts)
            continue
        job = session.scalar(
            update(ConsultingJob).where(ConsultingJob.req_id == found.req_id)
            .values(status=RUNNING, attempts=ConsultingJob.attempts + 1, started_at=func.now(),
                    lease_until=func.now() + lease)
            .returning(ConsultingJob),
            execution_options={"populate_existing": True})
        session.commit()  # the claim and its lease hold for other workers while this one works the job out
        return job


def _finish(session: Session, job: ConsultingJob, **values) -> datetime.datetime | None:
    """Record the outcome if this claim is still the job's current one; returns the finish time."""
    finished_at = session.scalar(
        update(ConsultingJob)
        .where(ConsultingJob.req_id == job.req_id, ConsultingJob.status == RUNNING,
               ConsultingJob.attempts == job.attempts)
        .values(lease_until=None, finished_at=func.now(), **values)
        .returning(ConsultingJob.finished_at))
    if finished_at is None:
        session.rollback()
        log.warning("consulting job %s was taken over by another claim; dropping this outcome", job.req_id)
    return finished_at


def complete_job(*, session: Session, job: ConsultingJob, advice: Advice, figures: dict | None = None) -> bool:
    """Store the advice, the figures it was written from and its Kafka message in one transaction."""
    finished_at = _finish(session, job, status=SUCCESS, source=advice.source, consulting=advice.text,
                          figures=figures, failure_reason=None)
    if finished_at is None:
        return False
    message = ConsultingResultMessage(req_id=job.req_id, store_id=job.store_id, source=advice.source,
                                      consulting=advice.text, created_at=finished_at)
    outbox.add_message(session=session, topic=CONSULTING_TOPIC, key=str(job.req_id),
                       payload=message.model_dump(mode="json"))
    session.commit()  # the result and its message become visible together, and the claim ends
    return True


def fail_job(*, session: Session, job: ConsultingJob, reason: str) -> bool:
    if _finish(session, job, status=FAILED, failure_reason=reason[:MAX_REASON]) is None:
        return False
    session.commit()  # the failure is final and the claim ends
    return True


def postpone_job(*, session: Session, job: ConsultingJob, delay: datetime.timedelta) -> bool:
    """Keep the claim but let its lease run out after delay, when any worker takes the job again."""
    postponed = session.execute(
        update(ConsultingJob)
        .where(ConsultingJob.req_id == job.req_id, ConsultingJob.status == RUNNING,
               ConsultingJob.attempts == job.attempts)
        .values(lease_until=func.now() + delay)).rowcount
    session.commit()  # the shorter lease is what lets another worker take the job after delay
    return postponed == 1


def release_job(*, session: Session, job: ConsultingJob) -> bool:
    """Hand a claimed job back (the worker is stopping) so another worker takes it at once."""
    released = session.execute(
        update(ConsultingJob)
        .where(ConsultingJob.req_id == job.req_id, ConsultingJob.status == RUNNING,
               ConsultingJob.attempts == job.attempts)
        .values(status=PENDING, lease_until=None)).rowcount
    session.commit()  # handed back now, for another worker to take at once
    return released == 1


def process_job(*, session: Session, job: ConsultingJob, client: ServiceClient, jwt_secret: str,
                model: ModelSettings | None, model_client: OpenAI | None = None,
                max_days: int = MAX_PERIOD_DAYS) -> str:
    """Work a claimed job out and record the outcome; returns the job's status, "postponed" (asked again
    later), or "lost" (taken over)."""
    try:
        data = figures.read_store_data(client=client, store_id=job.store_id, start=job.start_date, end=job.end_date,
                                       jwt_secret=jwt_secret, max_days=max_days)
        period = figures.period_figures(data, start=job.start_date, end=job.end_date)
        advice = advise(figures=period, model=model, client=model_client)
    except figures.ReportUnavailable as exc:
        if exc.transient and job.attempts < MAX_ATTEMPTS:
            delay = RETRY_DELAYS.get(job.attempts, RETRY_DELAYS[max(RETRY_DELAYS)])
            log.warning("consulting job %s waits %s s: %s", job.req_id, delay.total_seconds(), exc.reason)
            return POSTPONED if postpone_job(session=session, job=job, delay=delay) else "lost"
        log.warning("consulting job %s failed: %s", job.req_id, exc.reason)
        return FAILED if fail_job(session=session, job=job, reason=exc.reason) else "lost"
    except AdviceFailed as exc:
        log.warning("consulting job %s failed: %s", job.req_id, exc.reason)
        return FAILED if fail_job(session=session, job=job, reason=exc.reason) else "lost"
    except Exception:
        log.exception("consulting job %s failed unexpectedly", job.req_id)
        return FAILED if fail_job(session=session, job=job, reason=UNEXPECTED_FAILURE) else "lost"
    if not complete_job(session=session, job=job, advice=advice, figures=period):
        return "lost"
    log.info("consulting job %s done (%s)", job.req_id, advice.source)
    return SUCCESS
