"""Consulting quotas (issue 13, point 5): per store at most 3 unfinished jobs and 20 jobs in any hour;
asking again for a period whose job is unfinished answers that job; parallel requests cannot get past."""
import datetime
import threading
import uuid

import pytest
from sqlalchemy import func, select, update

from consulting_service.app import create_app, jobs
from consulting_service.app.advice import Advice
from consulting_service.app.models import ConsultingJob
from salesync_common.settings import ConfigError, Settings
from salesync_common.tokens import issue_token
from testsupport.clients import CheckedClient
from testsupport.settings import TEST_JWT_SECRET, migrated_settings

from .conftest import LEASE

STORE, OTHER_STORE = 7, 8
FIRST_DAY = datetime.date(2024, 1, 1)


def auth(store_id):
    return {"Authorization": "Bearer " + issue_token(store_id=store_id, secret=TEST_JWT_SECRET, ttl_seconds=600)}


def period(n):
    """The n-th of many distinct periods: the first n days of 2024."""
    return f"start={FIRST_DAY}&end={FIRST_DAY + datetime.timedelta(days=n)}"


def ask(client, store_id=STORE, query=None, path="/consulting/"):
    return client.get(f"{path}?{query or period(0)}", headers=auth(store_id))


def req_id_of(response):
    assert response.status_code == 200, response.get_json()
    return response.get_json()["req_id"]


def jobs_of(sessions, store_id=STORE):
    with sessions() as session:
        return session.scalars(select(ConsultingJob).where(ConsultingJob.store_id == store_id)
                               .order_by(ConsultingJob.created_at)).all()


def finish(sessions, req_id):
    """What the worker does with a job: claim it and record its advice."""
    with sessions() as session:
        job = session.scalar(update(ConsultingJob).where(ConsultingJob.req_id == uuid.UUID(req_id))
                             .values(status="running", attempts=1, started_at=func.now(),
                                     lease_until=func.now() + LEASE)
                             .returning(ConsultingJob))
        session.commit()
        assert jobs.complete_job(session=session, job=job, advice=Advice("rule_based", "세트 메뉴를 만드세요."))


def backdate(sessions, req_id, minutes):
    with sessions() as session:
        session.execute(update(ConsultingJob).where(ConsultingJob.req_id == uuid.UUID(req_id))
                        .values(created_at=func.now() - datetime.timedelta(minutes=minutes)))
        session.commit()


def assert_refused(response, *, error, retry_after):
    assert response.status_code == 429, response.get_json()
    body = response.get_json()
    assert (body["result"], body["error"]) == ("failed", error)
    assert body["retry_after"] == int(response.headers["Retry-After"])
    low, high = retry_after
    assert low <= int(response.headers["Retry-After"]) <= high, response.headers["Retry-After"]
    return body


def test_a_store_may_have_three_unfinished_jobs_and_the_fourth_is_told_to_wait(client, sessions):
    started = [req_id_of(ask(client, query=period(n))) for n in range(3)]

    fourth = ask(client, query=period(3))

    body = assert_refused(fourth, error="consulting_busy", retry_after=(10, 10))
    assert "3건" in body["message"]
    assert [str(job.req_id) for job in jobs_of(sessions)] == started
    # Through the other path too: both start the same kind of job.
    assert_refused(ask(client, query=period(3), path="/consulting/test"), error="consulting_busy", retry_after=(10, 10))

    finish(sessions, started[0])
    assert req_id_of(ask(client, query=period(3))) not in started
    assert_refused(ask(client, query=period(4)), error="consulting_busy", retry_after=(10, 10))
    assert len(jobs_of(sessions)) == 4


def test_a_failed_job_is_finished_too(client, sessions):
    started = [req_id_of(ask(client, query=period(n))) for n in range(3)]
    with sessions() as session:
        job = jobs.claim_next_job(session=session, lease=LEASE)
        jobs.fail_job(session=session, job=job, reason="AI 컨설팅 실패")
    assert str(job.req_id) in started

    assert req_id_of(ask(client, query=period(3)))


def test_one_store_at_its_quota_does_not_hold_another_back(client):
    for n in range(3):
        req_id_of(ask(client, query=period(n)))
    assert ask(client, query=period(3)).status_code == 429

    assert req_id_of(ask(client, OTHER_STORE, query=period(3)))


@pytest.mark.parametrize("again_path", ["/consulting/", "/consulting/test"])
def test_asking_again_for_the_same_period_answers_the_unfinished_job(client, sessions, again_path):
    first = req_id_of(ask(client, query=period(0)))
    others = [req_id_of(ask(client, query=period(n))) for n in (1, 2)]

    # The store is at its quota, yet the same period is answered: nothing new is started or counted.
    for _ in range(5):
        assert req_id_of(ask(client, query=period(0), path=again_path)) == first
    assert [str(job.req_id) for job in jobs_of(sessions)] == [first, *others]
    # Another store's job over the same period is its own.
    assert req_id_of(ask(client, OTHER_STORE, query=period(0))) != first

    # Once it is finished, the same period starts a new job.
    finish(sessions, first)
    again = req_id_of(ask(client, query=period(0), path=again_path))
    assert again not in (first, *others)
    assert req_id_of(ask(client, query=period(0))) == again
    assert len(jobs_of(sessions)) == 4


def test_asking_again_for_an_unfinished_period_is_not_counted_in_the_hour(client, sessions):
    first = req_id_of(ask(client, query=period(0)))
    for _ in range(25):
        assert req_id_of(ask(client, query=period(0))) == first
    finish(sessions, first)

    # 19 more jobs make 20 in the hour; the 21st is refused.
    for n in range(1, 20):
        finish(sessions, req_id_of(ask(client, query=period(n))))
    assert_refused(ask(client, query=period(20)), error="consulting_hourly_limit", retry_after=(3500, 3600))


def test_twenty_jobs_in_an_hour_then_wait_until_the_oldest_leaves_the_hour(client, sessions):
    started = []
    for n in range(20):
        started.append(req_id_of(ask(client, query=period(n))))
        finish(sessions, started[-1])
    backdate(sessions, started[0], minutes=50)  # the oldest of the hour leaves it in 10 minutes

    refused = ask(client, query=period(20))

    body = assert_refused(refused, error="consulting_hourly_limit", retry_after=(595, 600))
    assert "20건" in body["message"]
    assert len(jobs_of(sessions)) == 20
    # Another store has its own hour.
    assert req_id_of(ask(client, OTHER_STORE, query=period(20)))

    backdate(sessions, started[0], minutes=61)  # it has left the hour: 19 remain
    finish(sessions, req_id_of(ask(client, query=period(20))))
    # 20 in the hour again; now the second job is the oldest, started moments ago.
    backdate(sessions, started[1], minutes=30)
    assert_refused(ask(client, query=period(21)), error="consulting_hourly_limit", retry_after=(1795, 1800))


def test_the_hourly_cap_waits_longer_than_the_unfinished_cap(client, sessions):
    """At both caps, Retry-After says when a new job can start: when the hour allows it."""
    for n in range(17):
        finish(sessions, req_id_of(ask(client, query=period(n))))
    for n in range(17, 20):
        req_id_of(ask(client, query=period(n)))

    assert_refused(ask(client, query=period(20)), error="consulting_hourly_limit", retry_after=(3500, 3600))


def parallel(count, call):
    barrier = threading.Barrier(count)
    answers = [None] * count

    def run(n):
        barrier.wait()
        answers[n] = call(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    return answers


def test_ten_parallel_requests_of_one_store_start_at_most_three_jobs(app, sessions):
    answers = parallel(10, lambda n: ask(app.test_client(), query=period(n)))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * 3 + [429] * 7
    accepted = {answer.get_json()["req_id"] for answer in answers if answer.status_code == 200}
    assert {str(job.req_id) for job in jobs_of(sessions)} == accepted
    assert all(answer.headers["Retry-After"] == "10" for answer in answers if answer.status_code == 429)


def test_ten_parallel_requests_for_one_period_start_one_job(app, sessions):
    answers = parallel(10, lambda n: ask(app.test_client(), query=period(0)))

    assert {answer.status_code for answer in answers} == {200}
    [job] = jobs_of(sessions)
    assert {answer.get_json()["req_id"] for answer in answers} == {str(job.req_id)}


def test_ten_parallel_requests_cannot_pass_the_hourly_cap(app, client, sessions):
    for n in range(18):
        finish(sessions, req_id_of(ask(client, query=period(n))))

    answers = parallel(10, lambda n: ask(app.test_client(), query=period(18 + n)))

    assert sorted(answer.status_code for answer in answers) == [200] * 2 + [429] * 8
    assert len(jobs_of(sessions)) == 20


@pytest.fixture(scope="module")
def small_quota_app(database_url):
    """The consulting service with SALESYNC_CONSULTING_MAX_UNFINISHED=1 and SALESYNC_CONSULTING_PER_HOUR=2."""
    settings = Settings.from_env("consulting", env={"SALESYNC_JWT_SECRET": TEST_JWT_SECRET,
                                                    "SALESYNC_CONSULTING_MAX_UNFINISHED": "1",
                                                    "SALESYNC_CONSULTING_PER_HOUR": "2"})
    app = create_app(migrated_settings("consulting", database_url,
                                       consulting_max_unfinished=settings.consulting_max_unfinished,
                                       consulting_per_hour=settings.consulting_per_hour))
    app.test_client_class = CheckedClient  # sends a service token, as the BFF does
    return app


def test_the_quotas_are_settings(small_quota_app, sessions):
    client = small_quota_app.test_client()
    first = req_id_of(ask(client, query=period(0)))
    body = assert_refused(ask(client, query=period(1)), error="consulting_busy", retry_after=(10, 10))
    assert "1건" in body["message"]
    finish(sessions, first)
    finish(sessions, req_id_of(ask(client, query=period(1))))

    body = assert_refused(ask(client, query=period(2)), error="consulting_hourly_limit", retry_after=(3500, 3600))
    assert "2건" in body["message"]


def test_the_quota_settings_default_to_three_and_twenty():
    settings = Settings.from_env("consulting", env={"SALESYNC_JWT_SECRET": TEST_JWT_SECRET})
    assert (settings.consulting_max_unfinished, settings.consulting_per_hour) == (3, 20)


@pytest.mark.parametrize("name", ["SALESYNC_CONSULTING_MAX_UNFINISHED", "SALESYNC_CONSULTING_PER_HOUR"])
@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_a_quota_setting_that_allows_nothing_is_refused_at_start(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env("consulting", env={"SALESYNC_JWT_SECRET": TEST_JWT_SECRET, name: value})
