"""Starting a consulting job and asking for its state (API.md §7, Decision 6)."""
import datetime
import time
import uuid

import pytest
from sqlalchemy import select, update

from consulting_service.app import jobs
from consulting_service.app.advice import Advice
from consulting_service.app.models import ConsultingJob, OutboxMessage
from salesync_common.kafka_client import CONSULTING_TOPIC
from salesync_common.tokens import issue_token
from testsupport.settings import TEST_JWT_SECRET

from .conftest import LEASE

PERIOD = "start=2024-01-01&end=2024-01-31"
START_PATHS = ["/consulting/", "/consulting/test"]
STATUS_PATHS = ["/consulting/{}", "/consulting/test/{}"]


def auth(store_id):
    return {"Authorization": "Bearer " + issue_token(store_id=store_id, secret=TEST_JWT_SECRET, ttl_seconds=600)}


def start(client, store_id, path="/consulting/test", query=PERIOD):
    response = client.get(f"{path}?{query}", headers=auth(store_id))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["req_id"]


def stored_job(sessions, req_id):
    with sessions() as session:
        return session.get(ConsultingJob, uuid.UUID(req_id))


@pytest.mark.parametrize("path", START_PATHS)
def test_starting_a_job_answers_a_full_req_id_at_once(client, sessions, path):
    began = time.monotonic()
    response = client.get(f"{path}?{PERIOD}", headers={**auth(7), "X-CSRF-Token": "ignored"})
    elapsed = time.monotonic() - began

    assert response.status_code == 200
    req_id = response.get_json()["req_id"]
    assert str(uuid.UUID(req_id)) == req_id and uuid.UUID(req_id).version == 4
    # Nothing was asked of the dashboard or the model: the job only waits for the worker.
    assert elapsed < 0.5
    job = stored_job(sessions, req_id)
    assert (job.store_id, job.status, job.attempts) == (7, "pending", 0)
    assert (job.start_date, job.end_date) == (datetime.date(2024, 1, 1), datetime.date(2024, 1, 31))


def test_every_period_starts_its_own_job(client):
    periods = ["start=2024-01-01&end=2024-01-31", "start=2024-02-01&end=2024-02-29", "start=2024-03-01&end=2024-03-01"]
    assert len({start(client, 7, query=period) for period in periods}) == 3


@pytest.mark.parametrize("path", STATUS_PATHS)
def test_the_state_says_not_completed_until_the_result_is_on_the_topic(client, sessions, path):
    req_id = start(client, 7)
    waiting = {"result": "not completed", "message": "컨설팅 진행 중", "req_id": req_id}
    assert client.get(path.format(req_id), headers=auth(7)).get_json() == waiting

    with sessions() as session:
        jobs.claim_next_job(session=session, lease=LEASE)
    assert client.get(path.format(req_id), headers=auth(7)).get_json() == waiting

    # Stored but not yet published: the dashboard could not show it yet.
    with sessions() as session:
        job = session.get(ConsultingJob, uuid.UUID(req_id))
        jobs.complete_job(session=session, job=job, advice=Advice("rule_based", "세트 메뉴를 만드세요."))
    assert client.get(path.format(req_id), headers=auth(7)).get_json() == waiting

    with sessions() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.topic == CONSULTING_TOPIC,
                                                    OutboxMessage.message_key == req_id)
                        .values(sent_at=datetime.datetime.now(datetime.UTC)))
        session.commit()
    response = client.get(path.format(req_id), headers=auth(7))
    assert response.status_code == 200
    assert response.get_json() == {"result": "success", "message": "컨설팅 완료", "req_id": req_id,
                                   "source": "rule_based"}


@pytest.mark.parametrize("path", STATUS_PATHS)
def test_a_failed_job_says_why(client, sessions, path):
    req_id = start(client, 7)
    with sessions() as session:
        job = jobs.claim_next_job(session=session, lease=LEASE)
        jobs.fail_job(session=session, job=job, reason="AI 컨설팅 실패: 응답 시간 초과")

    response = client.get(path.format(req_id), headers=auth(7))

    assert response.status_code == 200
    assert response.get_json() == {"result": "failed", "message": "AI 컨설팅 실패: 응답 시간 초과",
                                   "error": "consulting_failed", "req_id": req_id}


@pytest.mark.parametrize("path", STATUS_PATHS)
def test_another_stores_unknown_and_malformed_ids_are_404(client, path):
    mine = start(client, 7)
    for req_id in (mine, str(uuid.uuid4()), "not-a-uuid", mine[:20], "0"):
        response = client.get(path.format(req_id), headers=auth(8))
        assert response.status_code == 404, req_id
        assert response.get_json()["error"] == "consulting_not_found"
    assert client.get(path.format(mine), headers=auth(7)).status_code == 200


@pytest.mark.parametrize("path", START_PATHS)
@pytest.mark.parametrize("query,field", [
    ("", "start"),
    ("end=2024-01-02", "start"),
    ("start=2024-01-01", "end"),
    ("start=2024-1-1&end=2024-01-02", "start"),
    ("start=2024-01-01&end=2024-02-30", "end"),
    ("start=yesterday&end=2024-01-02", "start"),
    ("start=2024-01-02&end=2024-01-01", "end"),
    ("start=2024-01-01&end=2025-01-01", "end"),
], ids=["nothing", "no start", "no end", "short date", "no such day", "words", "reversed", "367 days"])
def test_a_bad_period_is_refused_naming_the_field(client, sessions, path, query, field):
    response = client.get(f"{path}?{query}", headers=auth(7))

    assert response.status_code == 400
    assert response.get_json()["field"] == field
    with sessions() as session:
        assert session.scalars(select(ConsultingJob)).all() == []


def test_a_whole_leap_year_is_allowed(client):
    assert start(client, 7, query="start=2024-01-01&end=2024-12-31")


ROUTES = ["/consulting/?" + PERIOD, "/consulting/test?" + PERIOD, f"/consulting/{uuid.uuid4()}",
          f"/consulting/test/{uuid.uuid4()}"]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("authorization", [
    None, "Bearer null", "Bearer", "Token abc",
    "Bearer " + issue_token(store_id=7, secret="y" * 48, ttl_seconds=600),
    "Bearer " + issue_token(store_id=7, secret=TEST_JWT_SECRET, ttl_seconds=60, now=time.time() - 600),
], ids=["none", "null", "empty", "not bearer", "wrong secret", "expired"])
def test_every_consulting_route_needs_a_valid_token(client, sessions, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    assert client.get(path, headers=headers).status_code == 401
    with sessions() as session:
        assert session.scalars(select(ConsultingJob)).all() == []
