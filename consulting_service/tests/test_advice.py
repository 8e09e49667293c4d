"""Advice over a store's real sales (read from the real dashboard): from the model when a key is set,
else from the rule-based analyst. A model that fails fails the job with a reason; it never stays running."""
import datetime
import json
import time

import pytest
from sqlalchemy import func, update

from consulting_service.app import jobs
from consulting_service.app.advice import ModelSettings, rule_based_advice
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
    assert "프로모션" in prompt and "이익" in prompt
    figures = sent_figures(prompt)
    items = {item["name"]: item for item in figures["items"]}
    assert items["제육볶음"] == {"name": "제육볶음", "quantity": 4, "revenue": 44000, "cost": 16000, "profit": 28000,
                              "margin_pct": 63.6, "cost_missing": False}
    assert items["공기밥"]["profit"] == -800 and items["공기밥"]["margin_pct"] == -20.0
    assert items["계란말이"]["cost_missing"] is True and items["계란말이"]["margin_pct"] is None
    assert figures["period"] == {"start": shop.today, "end": shop.today}
    profile = shop.profile()
    for personal in (profile["store_name"], profile["owner_name"], profile["phone"], profile["username"]):
        assert personal not in json.dumps(request["body"], ensure_ascii=False), personal
    assert set(figures) == {"period", "sales_volume", "totals", "items"}
    assert all(set(item) == set(items["제육볶음"]) for item in figures["items"])


def test_a_rate_limited_model_is_asked_again(sessions, shop, fake_openai, model, work_one_job):
    fake_openai.behaviour = "rate_limited_once"
    req_id = start_job(sessions, shop)

    work_one_job(model=model)

    assert len(fake_openai.requests) == 2
    assert (job_row(sessions, req_id).status, job_row(sessions, req_id).source) == ("success", "openai")


@pytest.mark.parametrize("behaviour,settings,reason,tries", [
    ("fail", {"max_retries": 2}, "AI 서비스 오류 (500, 3회 시도)", 3),
    ("slow", {"timeout": 0.3, "max_retries": 1}, "응답 시간 초과 (0.3초, 2회 시도)", 2),
    ("garbled", {}, "응답을 읽을 수 없습니다", 1),
], ids=["500 always", "timeout", "bad reply"])
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


def test_without_an_api_key_the_rule_based_analyst_advises(sessions, shop, work_one_job):
    req_id = start_job(sessions, shop)

    work_one_job(model=None)

    job = job_row(sessions, req_id)
    assert (job.status, job.source) == ("success", "rule_based")
    text = job.consulting
    assert "규칙 기반 분석" in text and "OPENAI_API_KEY" in text
    best, worst = text.index("이익을 가장 많이 내는 메뉴"), text.index("이익이 가장 적은 메뉴")
    assert "제육볶음: 4개 판매, 매출 44,000원, 원가 16,000원, 순이익 28,000원 (이익률 63.6%)" in text[best:worst]
    assert "공기밥: 4개 판매, 매출 4,000원, 원가 4,800원, 순이익 -800원 (이익률 -20.0%)" in text[worst:]
    assert "원가가 등록되지 않은 메뉴: 계란말이" in text
    assert "손해를 보는 메뉴: 공기밥" in text
    assert "이익률이 낮은 메뉴 (30% 미만): 김치찌개 (이익률 5.6%)" in text
    promotions = text[text.index("■ 프로모션 제안"):].splitlines()[1:]
    assert 2 <= len(promotions) <= 3
    assert any("제육볶음" in line and "세트" in line for line in promotions)
    assert any("공기밥" in line and "200원" in line for line in promotions)  # 800원 lost on 4


def test_an_empty_period_gets_a_message_not_an_error(sessions, shop, fake_openai, model, work_one_job):
    req_id = start_job(sessions, shop, start="2020-01-01", end="2020-01-31")

    work_one_job(model=model)

    job = job_row(sessions, req_id)
    assert (job.status, job.source) == ("success", "rule_based")
    assert "판매가 없어" in job.consulting
    assert fake_openai.requests == []  # nothing to ask the model about


def unreachable_dashboard(database_url):
    nowhere = settings_for_tests("consulting", database_url,
                                 service_urls={"dashboard": f"http://127.0.0.1:{free_port()}"}, http_get_retries=0)
    return ServiceClient(nowhere)


def lease_runs_out(sessions, req_id):
    with sessions() as session:
        session.execute(update(ConsultingJob).where(ConsultingJob.req_id == req_id, ConsultingJob.status == "running")
                        .values(lease_until=func.now() - datetime.timedelta(seconds=1)))
        session.commit()


def test_a_dashboard_that_is_down_for_a_while_only_delays_the_job(database_url, sessions, shop, work_one_job):
    req_id = start_job(sessions, shop)

    work_one_job(client=unreachable_dashboard(database_url))

    job = job_row(sessions, req_id)
    assert (job.status, job.attempts, job.failure_reason) == ("running", 1, None)
    with sessions() as session:
        assert jobs.status_of(session=session, store_id=shop.store_id, req_id=str(req_id))["result"] == "not completed"
        assert jobs.claim_next_job(session=session, lease=LEASE) is None  # not before its delay
    lease_runs_out(sessions, req_id)

    work_one_job()  # the dashboard is back

    job = job_row(sessions, req_id)
    assert (job.status, job.source, job.attempts) == ("success", "rule_based", 2)


def test_a_dashboard_down_on_every_attempt_fails_the_job_with_a_reason(database_url, sessions, shop, work_one_job):
    req_id = start_job(sessions, shop)
    for _ in range(jobs.MAX_ATTEMPTS):
        work_one_job(client=unreachable_dashboard(database_url))
        lease_runs_out(sessions, req_id)

    job = job_row(sessions, req_id)
    assert (job.status, job.attempts) == ("failed", jobs.MAX_ATTEMPTS)
    assert job.failure_reason.startswith("매출 조회 실패: 대시보드 서비스 응답 없음")


def figures_of(*items, sales_volume=None):
    items = [{"name": name, "quantity": quantity, "revenue": revenue, "cost": cost, "profit": revenue - cost,
              "margin_pct": round((revenue - cost) * 100 / revenue, 1), "cost_missing": False}
             for name, quantity, revenue, cost in items]
    revenue = sum(i["revenue"] for i in items)
    profit = sum(i["profit"] for i in items)
    return {"period": {"start": "2024-05-01", "end": "2024-05-31"}, "sales_volume": sales_volume or revenue,
            "totals": {"revenue": revenue, "cost": revenue - profit, "profit": profit,
                       "margin_pct": round(profit * 100 / revenue, 1)},
            "items": sorted(items, key=lambda i: -i["profit"])}


def test_the_rule_based_analyst_names_the_best_and_worst_of_a_longer_menu():
    text = rule_based_advice(figures_of(("피자", 120, 2_400_000, 900_000), ("파스타", 80, 1_200_000, 500_000),
                                        ("샐러드", 30, 270_000, 120_000), ("콜라", 200, 400_000, 340_000),
                                        ("감자튀김", 10, 50_000, 60_000), ("치즈볼", 5, 25_000, 10_000)))

    best, worst = text.index("이익을 가장 많이 내는 메뉴"), text.index("이익이 가장 적은 메뉴")
    assert [name for name in ("피자", "파스타", "샐러드") if name in text[best:worst]] == ["피자", "파스타", "샐러드"]
    assert "순이익 1,500,000원" in text[best:worst]
    assert "감자튀김" in text[worst:] and "순이익 -10,000원" in text
    assert "콜라 (이익률 15.0%)" in text
    promotions = text[text.index("■ 프로모션 제안"):].splitlines()[1:]
    assert len(promotions) == 3
    assert "'피자'" in promotions[0] and "'치즈볼'" in promotions[0]
    assert "'콜라'" in promotions[1] and "'감자튀김'" in promotions[2]


def test_a_menu_of_one_item_still_gets_two_promotions():
    text = rule_based_advice(figures_of(("국밥", 50, 450_000, 200_000)))
    promotions = text[text.index("■ 프로모션 제안"):].splitlines()[1:]
    assert len(promotions) == 2 and all("국밥" in line for line in promotions)
    assert "이익이 가장 적은 메뉴" not in text


def test_model_settings_come_from_the_environment():
    assert ModelSettings.from_env({}) is None
    assert ModelSettings.from_env({"OPENAI_API_KEY": "  "}) is None
    assert ModelSettings.from_env({"OPENAI_API_KEY": "sk-1"}) == ModelSettings(
        api_key="sk-1", base_url=None, model="gpt-4o-mini", timeout=30.0, max_retries=2)
    assert ModelSettings.from_env({"OPENAI_API_KEY": "sk-1", "OPENAI_BASE_URL": "http://llm:8080/v1",
                                   "OPENAI_MODEL": "gpt-4.1", "OPENAI_TIMEOUT_SECONDS": "12.5",
                                   "OPENAI_MAX_RETRIES": "0"}) == ModelSettings(
        api_key="sk-1", base_url="http://llm:8080/v1", model="gpt-4.1", timeout=12.5, max_retries=0)
    with pytest.raises(ConfigError, match="OPENAI_TIMEOUT_SECONDS"):
        ModelSettings.from_env({"OPENAI_API_KEY": "sk-1", "OPENAI_TIMEOUT_SECONDS": "soon"})
    with pytest.raises(ConfigError, match="OPENAI_MAX_RETRIES"):
        ModelSettings.from_env({"OPENAI_API_KEY": "sk-1", "OPENAI_MAX_RETRIES": "-1"})
