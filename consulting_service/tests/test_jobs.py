"""Claiming jobs: round-robin across stores, oldest first within a store, once, with a lease; a dead
worker's job is taken again, at most three times."""
import datetime
import threading
import uuid

import pytest
from sqlalchemy import event, func, select, text, update

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


def test_a_store_with_a_hundred_queued_jobs_delays_another_stores_job_by_one_at_most(sessions, work_one_job):
    crowd = [new_job(sessions, store_id=7) for _ in range(100)]
    single = new_job(sessions, store_id=8)

    taken = [work_one_job(), work_one_job()]  # the worker's real job loop, against the real dashboard

    assert single in taken
    assert taken == [crowd[0], single]


def test_stores_are_served_round_robin_and_each_store_oldest_first(sessions):
    a = [new_job(sessions, store_id=7) for _ in range(3)]
    b = [new_job(sessions, store_id=8) for _ in range(3)]
    c = [new_job(sessions, store_id=9)]

    order = [claim(sessions).req_id for _ in range(7)]

    assert order == [a[0], b[0], c[0], a[1], b[1], a[2], b[2]]


def test_a_store_asking_while_another_stores_backlog_is_worked_waits_one_job_at_most(sessions):
    crowd = [new_job(sessions, store_id=7) for _ in range(10)]
    for req_id in crowd[:4]:
        assert claim(sessions).req_id == req_id
    single = new_job(sessions, store_id=8)

    assert single in [claim(sessions).req_id, claim(sessions).req_id]


def test_a_job_handed_back_or_left_by_a_dead_worker_keeps_its_place(sessions):
    crowd = [new_job(sessions, store_id=7) for _ in range(3)]
    first = claim(sessions)
    let_lease_run_out(sessions, first.req_id)
    second = claim(sessions)
    assert second.req_id == first.req_id  # the dead worker's job comes before the store's next one
    with sessions() as session:
        assert jobs.release_job(session=session, job=second)
    new_job(sessions, store_id=8)

    assert claim(sessions).req_id == crowd[0]


def test_the_claim_is_read_from_the_index_with_many_queued_jobs(sessions):
    with sessions() as session:
        # 20,000 queued jobs of 50 stores, 400 turns deep.
        session.execute(text(
            "INSERT INTO consulting.consulting_jobs (req_id, store_id, start_date, end_date, status, turn) "
            "SELECT gen_random_uuid(), n % 50, :day, :day, 'pending', n / 50 FROM generate_series(1, 20000) AS n"),
            {"day": DAY})
        session.execute(text("ANALYZE consulting.consulting_jobs"))
        session.commit()
    sent = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if "FOR UPDATE SKIP LOCKED" in statement:
            sent.append((statement, parameters))

    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", remember)
    try:
        assert claim(sessions) is not None
    finally:
        event.remove(engine, "before_cursor_execute", remember)

    [(statement, parameters)] = sent
    with engine.connect() as connection:
        plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert "ix_consulting_jobs_claim_order" in plan, plan
    assert "Seq Scan" not in plan and "Sort" not in plan, plan


@pytest.mark.parametrize("req_id", [str(uuid.uuid4()), "zzz", ""])
def test_an_unknown_job_is_not_found(sessions, req_id):
    with sessions() as session, pytest.raises(jobs.JobNotFound):
        jobs.get_job(session=session, store_id=7, req_id=req_id)
