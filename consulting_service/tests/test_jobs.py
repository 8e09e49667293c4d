"""Claiming jobs: oldest first, once, with a lease; a dead worker's job is taken again, at most three times."""
import datetime
import threading
import uuid

import pytest
from sqlalchemy import func, select, update

from consulting_service.app import jobs
from consulting_service.app.advice import Advice
from consulting_service.app.models import ConsultingJob, OutboxMessage

from .conftest import LEASE

DAY = datetime.date(2024, 3, 1)


def new_job(sessions, store_id=7):
    with sessions() as session:
        job = jobs.create_job(session=session, store_id=store_id, start=DAY, end=DAY)
        session.commit()
        return job.req_id


def claim(sessions, lease=LEASE):
    with sessions() as session:
        return jobs.claim_next_job(session=session, lease=lease)


def job_row(sessions, req_id):
    with sessions() as session:
        return session.get(ConsultingJob, req_id)


def let_lease_run_out(sessions, req_id):
    """What a worker that died mid-job leaves behind: running, with a lease in the past."""
    with sessions() as session:
        session.execute(update(ConsultingJob).where(ConsultingJob.req_id == req_id)
                        .values(lease_until=func.now() - datetime.timedelta(seconds=1)))
        session.commit()


def test_the_oldest_pending_job_is_claimed_once_with_a_lease(sessions):
    first, second = new_job(sessions), new_job(sessions)

    claimed = claim(sessions)

    assert claimed.req_id == first
    assert (claimed.status, claimed.attempts) == ("running", 1)
    assert claimed.started_at is not None
    lease = claimed.lease_until - claimed.started_at
    assert abs(lease - LEASE) < datetime.timedelta(seconds=1)
    assert claim(sessions).req_id == second
    assert claim(sessions) is None


def test_a_job_whose_worker_died_is_picked_up_again(sessions):
    req_id = new_job(sessions)
    claim(sessions)
    let_lease_run_out(sessions, req_id)

    again = claim(sessions)

    assert again.req_id == req_id
    assert (again.status, again.attempts) == ("running", 2)
    assert again.lease_until > again.started_at


def test_a_running_job_with_a_live_lease_is_left_alone(sessions):
    new_job(sessions)
    claim(sessions)

    assert claim(sessions) is None


def test_a_job_that_keeps_dying_fails_after_three_attempts(sessions):
    req_id = new_job(sessions)
    for attempt in (1, 2, 3):
        assert claim(sessions).attempts == attempt
        let_lease_run_out(sessions, req_id)

    assert claim(sessions) is None

    job = job_row(sessions, req_id)
    assert job.status == "failed" and job.lease_until is None and job.finished_at is not None
    assert "3번 중단" in job.failure_reason


def test_a_worker_that_lost_its_claim_can_neither_finish_nor_announce_the_job(sessions):
    req_id = new_job(sessions)
    slow = claim(sessions)
    let_lease_run_out(sessions, req_id)
    taken_over = claim(sessions)

    with sessions() as session:
        assert jobs.complete_job(session=session, job=slow, advice=Advice("rule_based", "늦은 답")) is False
        assert jobs.fail_job(session=session, job=slow, reason="늦은 실패") is False
        assert jobs.complete_job(session=session, job=taken_over, advice=Advice("rule_based", "제때 온 답")) is True

    job = job_row(sessions, req_id)
    assert (job.status, job.consulting) == ("success", "제때 온 답")
    with sessions() as session:
        [message] = session.scalars(select(OutboxMessage)).all()
    assert message.message_key == str(req_id) and message.payload["consulting"] == "제때 온 답"


def test_a_finished_job_is_stored_with_its_message_in_one_transaction(sessions):
    req_id = new_job(sessions, store_id=9)
    job = claim(sessions)

    with sessions() as session:
        assert jobs.complete_job(session=session, job=job, advice=Advice("openai", "세트를 만드세요."))

    stored = job_row(sessions, req_id)
    assert (stored.status, stored.source, stored.lease_until) == ("success", "openai", None)
    with sessions() as session:
        [message] = session.scalars(select(OutboxMessage)).all()
    assert (message.topic, message.message_key, message.sent_at, message.attempts) == ("consulting", str(req_id),
                                                                                      None, 0)
    assert message.payload == {"req_id": str(req_id), "store_id": 9, "source": "openai",
                               "consulting": "세트를 만드세요.", "created_at": stored.finished_at.isoformat()}
    assert datetime.datetime.fromisoformat(message.payload["created_at"]).tzinfo is not None


def test_a_stopping_worker_hands_its_job_back(sessions):
    req_id = new_job(sessions)
    job = claim(sessions)

    with sessions() as session:
        assert jobs.release_job(session=session, job=job)

    assert job_row(sessions, req_id).status == "pending"
    again = claim(sessions)
    assert again.req_id == req_id and again.attempts == 2


def test_workers_racing_for_jobs_each_take_a_different_one(sessions):
    created = {new_job(sessions) for _ in range(3)}
    barrier = threading.Barrier(6)
    claimed = []

    def worker():
        barrier.wait()
        job = claim(sessions)
        claimed.append(job.req_id if job else None)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]

    taken = [req_id for req_id in claimed if req_id is not None]
    assert sorted(taken) == sorted(created)
    assert claimed.count(None) == 3
    assert all(job_row(sessions, req_id).attempts == 1 for req_id in created)


@pytest.mark.parametrize("req_id", [str(uuid.uuid4()), "zzz", ""])
def test_an_unknown_job_is_not_found(sessions, req_id):
    with sessions() as session, pytest.raises(jobs.JobNotFound):
        jobs.get_job(session=session, store_id=7, req_id=req_id)
