"""Advice over a store's real sales (read from the real order, sale and item services): from the model when a
key is set, else from the rule-based analyst. A model that cannot be reached fails the job with a reason (it
never stays running); an answer that cannot be used gives the rule-based advice, which says so."""
import datetime
import json
import time

import pytest
from sqlalchemy import func, update

from consulting_service.app import jobs
from consulting_service.app.advice import ModelSettings
from consulting_service.app.models import ConsultingJob
from salesync_common.service_client import ServiceClient
from salesync_common.settings import ConfigError
from testsupport.kafka_broker import free_port
from testsupport.settings import settings_for_tests

from .conftest import LEASE
from .fake_openai import ANSWER


def start_job(sessions, shop, start=None, end=None):
    with sessions() as session:
        job = jobs.create_job(session=session, store_id=shop.store_id,
                              start=_day(start or shop.today), end=_day(end or shop.today))
        session.commit()
        return job.req_id


def _day(value):
    return datetime.date.fromisoformat(value)


def job_row(sessions, req_id):
    with sessions() as session:
        return session.get(ConsultingJob, req_id)


def sent_figures(prompt):
    return json.loads(prompt.split("매출 정보: ", 1)[1])


def test_the_model_gets_the_figures_and_nothing_personal(sessions, shop, fake_openai, model, work_one_job):
    req_id = start_job(sessions, shop)

    work_one_job(model=model)

    job = job_row(sessions, req_id)
    assert (job.status, job.source, job.consulting) == ("success", "openai", ANSWER)
    [request] = fake_openai.requests
    assert request["body"]["model"] == "gpt-4o-mini"
    assert request["headers"]["Authorization"] == "Bearer sk-test-key"
    prompt = fake_openai.prompt()
    assert all(section in prompt for section in ("요약", "메뉴 분석", "할 일", "시간대", "다음 주에 할 세 가지"))
    figures = sent_figures(prompt)
    assert figures == job.figures  # what the model read is kept with the job
    items = {item["name"]: item for item in figures["items"]}
    # 제육볶음: 4 of 11 sold at 11,000 won, cost 4,000.
    assert items["제육볶음"] == {"name": "제육볶음", "quantity": 4, "revenue": 44000, "share_pct": 36.4,
                              "class": "Star", "unit_margin": 7000, "contribution": 28000}
    assert (items["공기밥"]["unit_margin"], items["공기밥"]["class"]) == (-200, "Plowhorse")
    assert items["계란말이"]["class"] is None and items["계란말이"]["unit_margin"] is None
    assert figures["totals"]["revenue"]["value"] == 44000 + 18000 + 4000 + 7000
    assert figures["period"] == {"start": shop.today, "end": shop.today, "days": 1}
    profile = shop.profile()
    for personal in (profile["store_name"], profile["owner_name"], profile["phone"], profile["username"]):
        assert personal not in json.dumps(request["body"], ensure_ascii=False), personal


def test_a_rate_limited_model_is_asked_again(sessions, shop, fake_openai, model, work_one_job):
    fake_openai.behaviour = "rate_limited_once"
    req_id = start_job(sessions, shop)

    work_one_job(model=model)

    assert len(fake_openai.requests) == 2
    assert (job_row(sessions, req_id).status, job_row(sessions, req_id).source) == ("success", "openai")


@pytest.mark.parametrize("behaviour,settings,reason,tries", [
    ("fail", {"max_retries": 2}, "AI 서비스 오류 (500, 3회 시도)", 3),
    ("slow", {"timeout": 0.3, "max_retries": 1}, "응답 시간 초과 (0.3초, 2회 시도)", 2),
], ids=["500 always", "timeout"])
def test_a_failing_model_fails_the_job_with_a_reason(sessions, shop, fake_openai, work_one_job,
                                                     behaviour, settings, reason, tries):
    fake_openai.behaviour = behaviour
    model = ModelSettings(api_key="sk-test-key", base_url=fake_openai.base_url, **settings)
    req_id = start_job(sessions, shop)

    began = time.monotonic()
    work_one_job(model=model)

    job = job_row(sessions, req_id)
    assert job.status == "failed" and job.lease_until is None
    assert reason in job.failure_reason
    assert len(fake_openai.requests) == tries
    print(f"{behaviour}: failed after {time.monotonic() - began:.2f} s")


@pytest.mark.parametrize("behaviour,answer,reason", [
    ("answer", "", "AI가 빈 답을 보내"),
    ("answer", "가" * 5000, "AI의 답이 너무 길어(5,000자, 최대 4,000자)"),
    ("answer", ["글", "아님"], "AI의 답이 글이 아니어서"),
    ("garbled", ANSWER, "AI 서비스의 응답을 읽을 수 없어"),
], ids=["empty", "too long", "not text", "bad reply"])
def test_an_unusable_answer_gives_the_rule_based_advice_and_says_so(sessions, shop, fake_openai, model, work_one_job,
                                                                     behaviour, answer, reason):
    fake_openai.behaviour, fake_openai.answer = behaviour, answer
    req_id = start_job(sessions, shop)

    work_one_job(model=model)

    job = job_row(sessions, req_id)
    assert (job.status, job.source) == ("success", "fallback")
    assert f"※ {reason} 규칙 기반 분석으로 대신합니다." in job.consulting
    assert "제육볶음: 스타(Star)" in job.consulting
    assert len(fake_openai.requests) == 1


def test_without_an_api_key_the_rule_based_analyst_advises(sessions, shop, work_one_job):
    req_id = start_job(sessions, shop)

    work_one_job(model=None)

    job = job_row(sessions, req_id)
    assert (job.status, job.source) == ("success", "rule_based")
    text = job.consulting
    assert "규칙 기반 분석" in text and "OPENAI_API_KEY" in text
    sections = [line for line in text.splitlines() if line.startswith("■ ")]
    assert sections == ["■ 요약", "■ 메뉴 분석", "■ 할 일", "■ 시간대", "■ 다음 주에 할 세 가지"]
    assert "- 매출 73,000원" in text
    assert ("- 제육볶음: 스타(Star) · 4개 판매(비중 36.4%), 매출 44,000원, 1개당 마진 7,000원, 공헌이익 28,000원"
            in text)
    assert "- 공기밥: 플로호스(Plowhorse) · 4개 판매(비중 36.4%), 매출 4,000원, 1개당 마진 -200원" in text
    assert "- 계란말이: 원가 미등록 · 1개 판매(비중 9.1%), 매출 7,000원" in text
    todo = text[text.index("■ 할 일"):text.index("■ 시간대")]
    assert "스타(Star) 제육볶음" in todo and "플로호스(Plowhorse) 김치찌개, 공기밥" in todo
    next_week = text[text.index("■ 다음 주에 할 세 가지"):].splitlines()[1:]
    assert [line[:3] for line in next_week] == ["1. ", "2. ", "3. "]


def test_an_empty_period_gets_a_message_not_an_error(sessions, shop, fake_openai, model, work_one_job):
    req_id = start_job(sessions, shop, start="2020-01-01", end="2020-01-31")

    work_one_job(model=model)

    job = job_row(sessions, req_id)
    assert (job.status, job.source) == ("success", "rule_based")
    assert "판매가 없어" in job.consulting
    assert fake_openai.requests == []  # nothing to ask the model about


def unreachable_services(database_url):
    nowhere = settings_for_tests("consulting", database_url,
                                 service_urls={name: f"http://127.0.0.1:{free_port()}"
                                               for name in ("order", "sale", "item")}, http_get_retries=0)
    return ServiceClient(nowhere)


def lease_runs_out(sessions, req_id):
    with sessions() as session:
        session.execute(update(ConsultingJob).where(ConsultingJob.req_id == req_id, ConsultingJob.status == "running")
                        .values(lease_until=func.now() - datetime.timedelta(seconds=1)))
        session.commit()


def test_services_down_for_a_while_only_delay_the_job(database_url, sessions, shop, work_one_job):
    req_id = start_job(sessions, shop)

    work_one_job(client=unreachable_services(database_url))

    job = job_row(sessions, req_id)
    assert (job.status, job.attempts, job.failure_reason) == ("running", 1, None)
    with sessions() as session:
        assert jobs.status_of(session=session, store_id=shop.store_id, req_id=str(req_id))["result"] == "not completed"
        assert jobs.claim_next_job(session=session, lease=LEASE) is None  # not before its delay
    lease_runs_out(sessions, req_id)

    work_one_job()  # the services are back

    job = job_row(sessions, req_id)
    assert (job.status, job.source, job.attempts) == ("success", "rule_based", 2)


def test_services_down_on_every_attempt_fail_the_job_with_a_reason(database_url, sessions, shop, work_one_job):
    req_id = start_job(sessions, shop)
    for _ in range(jobs.MAX_ATTEMPTS):
        work_one_job(client=unreachable_services(database_url))
        lease_runs_out(sessions, req_id)

    job = job_row(sessions, req_id)
    assert (job.status, job.attempts) == ("failed", jobs.MAX_ATTEMPTS)
    assert job.failure_reason.startswith("매출 조회 실패: 결제 서비스 응답 없음")


def test_model_settings_come_from_the_environment():
    assert ModelSettings.from_env({}) is None
    assert ModelSettings.from_env({"OPENAI_API_KEY": "  "}) is None
    assert ModelSettings.from_env({"OPENAI_API_KEY": "sk-1"}) == ModelSettings(
        api_key="sk-1", base_url=None, model="gpt-4o-mini", timeout=30.0, max_retries=2, max_answer_chars=4000)
    assert ModelSettings.from_env({"OPENAI_API_KEY": "sk-1", "OPENAI_BASE_URL": "http://llm:8080/v1",
                                   "OPENAI_MODEL": "gpt-4.1", "OPENAI_TIMEOUT_SECONDS": "12.5",
                                   "OPENAI_MAX_RETRIES": "0", "OPENAI_MAX_ANSWER_CHARS": "2500"}) == ModelSettings(
        api_key="sk-1", base_url="http://llm:8080/v1", model="gpt-4.1", timeout=12.5, max_retries=0,
        max_answer_chars=2500)
    with pytest.raises(ConfigError, match="OPENAI_TIMEOUT_SECONDS"):
        ModelSettings.from_env({"OPENAI_API_KEY": "sk-1", "OPENAI_TIMEOUT_SECONDS": "soon"})
    with pytest.raises(ConfigError, match="OPENAI_MAX_RETRIES"):
        ModelSettings.from_env({"OPENAI_API_KEY": "sk-1", "OPENAI_MAX_RETRIES": "-1"})
