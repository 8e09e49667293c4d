"""Consulting floods (issue 13, point 5), driven through the BFF against the running services.

- At most 3 unfinished jobs per store: the 4th `GET /consulting/` answers 429 with Retry-After and a
  clear message; asking again for a period whose job is unfinished answers that job's req_id.
- At most 20 jobs per store in any hour: with the default setting (SALESYNC_CONSULTING_PER_HOUR=20, no
  smaller service needed), the sweep has the worker's real job function work each job out between two
  requests, so the store never has more than one unfinished job; the 21st answers 429 with a
  Retry-After of about an hour.
- Ten parallel requests of one store start exactly 3 jobs.
- Round-robin: a store queueing after another store's 3 jobs waits for one of them at most.

The jobs are queued through the BFF; the worker's steps (`Worker.work_one_job`) run in this process
against the served consulting service's database and the served order, sale and item services, as the
worker process runs them. Every request to the BFF is counted under "abuse: consulting quotas".
"""
from __future__ import annotations

import concurrent.futures
import datetime
import threading
import uuid

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bff.app.schemas import Error
from consulting_service.app.models import ConsultingJob, db
from consulting_service.worker import Worker
from testsupport import shop as scenario

from .support import PASSWORD, REQUESTS, Browser

TALLY = "abuse: consulting quotas"
FIRST_DAY = datetime.date(2024, 1, 1)
MAX_UNFINISHED, PER_HOUR, BUSY_RETRY_SECONDS = 3, 20, 10
LEASE = datetime.timedelta(seconds=60)


def period(n: int) -> str:
    """The n-th of many distinct periods: the first n + 1 days of 2024."""
    return f"start={FIRST_DAY}&end={FIRST_DAY + datetime.timedelta(days=n)}"


def new_owner(base_url: str) -> tuple[Browser, int]:
    browser = Browser(base_url, tally=TALLY)
    pos = scenario.Shop(browser.send).sign_up(username=f"sweep{uuid.uuid4().hex[:10]}", password=PASSWORD,
                                              store_name=f"컨설팅가게{uuid.uuid4().hex[:4]}")
    browser.token = pos.token
    return browser, pos.store_id


def ask(browser: Browser, n: int, path: str = "/consulting/"):
    return browser.request("GET", f"{path}?{period(n)}")


def started(response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["req_id"]


def assert_refused(response, error: str, retry_after: tuple[int, int]) -> dict:
    assert response.status_code == 429, response.text
    body = response.json()
    Error.model_validate(body)
    assert (body["result"], body["error"]) == ("failed", error)
    low, high = retry_after
    assert low <= int(response.headers["Retry-After"]) <= high, response.headers["Retry-After"]
    return body


@pytest.fixture(scope="module")
def consulting_app(consulting_service):
    return consulting_service.server.app


@pytest.fixture(scope="module")
def sessions(consulting_app):
    with consulting_app.app_context():
        return sessionmaker(db.engine, expire_on_commit=False)


@pytest.fixture(scope="module")
def worker(consulting_app, sessions):
    """The consulting worker's job loop (rule-based advice), calling the served order, sale and item services."""
    settings = consulting_app.extensions["salesync_settings"]
    return Worker(session_factory=sessions, client=consulting_app.extensions["salesync_client"],
                  jwt_secret=settings.jwt_secret, model=None, publisher=None, lease=LEASE)


def unfinished_jobs(sessions, store_id: int) -> list[str]:
    with sessions() as session:
        return [str(req_id) for req_id in session.scalars(
            select(ConsultingJob.req_id).where(ConsultingJob.store_id == store_id,
                                               ConsultingJob.status.in_(("pending", "running"))))]


def work_until_taken(worker, wanted: set[str], *, most: int = 200) -> list[str]:
    """Run the worker's job loop until every wanted job was taken; the req_ids it took, in order."""
    taken = []
    while not wanted <= set(taken):
        assert len(taken) < most, f"{wanted - set(taken)} not taken after {most} jobs"
        job = worker.work_one_job()
        assert job is not None, f"{wanted - set(taken)} were never offered to the worker"
        taken.append(str(job.req_id))
    return taken


def test_the_fourth_unfinished_job_of_a_store_answers_429(bff_served):
    owner, _ = new_owner(bff_served.url)
    first = [started(ask(owner, n)) for n in range(MAX_UNFINISHED)]

    refused = ask(owner, MAX_UNFINISHED)

    body = assert_refused(refused, "consulting_busy", (BUSY_RETRY_SECONDS, BUSY_RETRY_SECONDS))
    assert f"{MAX_UNFINISHED}건" in body["message"]
    assert_refused(ask(owner, MAX_UNFINISHED, "/consulting/test"), "consulting_busy",
                   (BUSY_RETRY_SECONDS, BUSY_RETRY_SECONDS))
    # The same period while its job is unfinished: that job, by either path, though the store is at its quota.
    assert started(ask(owner, 0)) == first[0]
    assert started(ask(owner, 1, "/consulting/test")) == first[1]
    # The jobs it has are its own to poll.
    assert owner.request("GET", f"/consulting/{first[2]}").json()["result"] == "not completed"


def test_the_twenty_first_job_in_an_hour_answers_429(bff_served, sessions, worker):
    owner, store_id = new_owner(bff_served.url)
    for n in range(PER_HOUR):
        req_id = started(ask(owner, n))
        assert started(ask(owner, n)) == req_id  # asked again while unfinished: not a second job
        work_until_taken(worker, {req_id})
        assert unfinished_jobs(sessions, store_id) == []

    refused = ask(owner, PER_HOUR)

    body = assert_refused(refused, "consulting_hourly_limit", (3400, 3600))
    assert f"{PER_HOUR}건" in body["message"]


def test_ten_parallel_requests_of_one_store_start_three_jobs(bff_served, sessions):
    owner, store_id = new_owner(bff_served.url)
    barrier = threading.Barrier(10)

    def ask_at_once(n):
        with requests.Session() as session:  # one connection each, all sent together
            barrier.wait()
            return session.get(f"{bff_served.url}/consulting/?{period(n)}", headers=owner.headers, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(ask_at_once, range(10)))
    REQUESTS[TALLY] += len(answers)

    assert sorted(answer.status_code for answer in answers) == [200] * 3 + [429] * 7
    accepted = {answer.json()["req_id"] for answer in answers if answer.status_code == 200}
    assert set(unfinished_jobs(sessions, store_id)) == accepted
    for answer in answers:
        if answer.status_code == 429:
            assert_refused(answer, "consulting_busy", (BUSY_RETRY_SECONDS, BUSY_RETRY_SECONDS))


def test_a_store_queueing_behind_another_stores_jobs_waits_for_one_of_them_at_most(bff_served, worker):
    crowd, _ = new_owner(bff_served.url)
    single, _ = new_owner(bff_served.url)
    crowded = [started(ask(crowd, n)) for n in range(MAX_UNFINISHED)]
    alone = started(ask(single, 0))

    taken = work_until_taken(worker, {alone})

    before = taken[:taken.index(alone)]
    assert len([req_id for req_id in before if req_id in crowded]) <= 1, taken
