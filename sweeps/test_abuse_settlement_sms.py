"""Abuse of the settlement SMS (issue 13, point 1), driven through the BFF (`GET /dashboard/calculate`) over
real HTTP with every service up, each limit at its exact number.

No AWS credentials are visible while the sweeps run (conftest.no_aws), so each press records its text
instead of sending it; recorded texts count towards every limit like sent ones.

- how far back, per store and business day, per store in 24 hours, and per phone number in 24 hours over
  all stores: through the session's BFF and dashboard, with the default settings (7 days, 3 a day, 10 in
  24 hours, 10 to one phone in 24 hours). Every store here signs up with a phone number of its own (the
  session's other stores share the scenario's default number), except the stores that share a victim's
  number on purpose;
- the deployment-wide daily cap: its default (1000) would take a thousand presses, so this module serves
  a dashboard of its own, on a database of its own, with `SmsLimits(daily_limit=5)`
  (SALESYNC_SMS_DAILY_LIMIT=5), and a BFF in front of it; ten stores press at once;
- the provider's error text: the same own dashboard, with AWS credentials and an SNS endpoint that refuses
  connections.

Each limit has its own tally ("abuse: settlement SMS, <limit>"), printed at the end of the run.
"""
from __future__ import annotations

import datetime
import threading
import uuid

import pytest
import requests
from sqlalchemy import select

from dashboard_service.app import create_app as create_dashboard
from dashboard_service.app.models import Settlement, db
from dashboard_service.app.sms_quota import SmsLimits
from testsupport import shop as scenario
from testsupport.postgres import drop_database, ensure_database
from testsupport.served import ServedApp, local_service_urls, serve_service
from testsupport.settings import migrated_settings, service_headers

from .support import TODAY, Browser

TALLY = "abuse: settlement SMS"
SMALL_DAILY_LIMIT = 5
UTC = datetime.UTC


def days_back(n: int) -> str:
    return (TODAY - datetime.timedelta(days=n)).isoformat()


def fresh_phone() -> str:
    """A mobile number no other store of the session gave."""
    return f"010{uuid.uuid4().int % 10**8:08d}"


def new_store(base_url: str, limit: str, phone: str | None = None) -> Browser:
    """A store signed up through the BFF, as anyone on the internet can; its browser counts in the limit's tally."""
    browser = Browser(base_url, tally=f"{TALLY}, {limit}")
    store = scenario.Shop(browser.send).sign_up(username=f"sms{uuid.uuid4().hex[:10]}",
                                                store_name=f"문자가게{uuid.uuid4().hex[:4]}",
                                                phone=phone or fresh_phone())
    browser.token = store.token
    browser.store_id = store.store_id
    browser.phone = store.form["phone"]
    return browser


def e164(phone: str) -> str:
    return "+82" + phone[1:]


def press(browser: Browser, day: str, resend: bool = False):
    return browser.request("GET", f"/dashboard/calculate?date={day}" + ("&resend=true" if resend else ""))


def refusal(response, status: int, error: str) -> int:
    """The common JSON error with this status and a Retry-After; its seconds."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["result"] == "failed" and body["error"] == error
    assert int(response.headers["Retry-After"]) == body["retry_after"] >= 1
    return int(response.headers["Retry-After"])


# ---- through the session's BFF, default settings ---------------------------------------------------

def test_8_days_back_is_a_400_naming_date_and_7_days_back_is_settled(bff_served, no_aws):
    store = new_store(bff_served.url, "days back")

    eight = press(store, days_back(8))
    seven = press(store, days_back(7))
    tomorrow = press(store, (TODAY + datetime.timedelta(days=1)).isoformat())

    assert eight.status_code == 400 and eight.json()["field"] == "date" and "7 days" in eight.json()["message"]
    assert seven.status_code == 200 and seven.json()["date"] == days_back(7)
    assert tomorrow.status_code == 400 and tomorrow.json()["field"] == "date"


def test_a_press_and_two_resends_answer_200_and_the_third_resend_a_429_in_korean(bff_served, no_aws):
    store = new_store(bff_served.url, "per business day")

    answers = [press(store, days_back(1)), press(store, days_back(1), resend=True),
               press(store, days_back(1), resend=True)]
    third_resend = press(store, days_back(1), resend=True)
    plain = press(store, days_back(1))

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.json()["already_sent"] for answer in answers] == [False, False, False]
    refusal(third_resend, 429, "settlement_sms_day_limit")
    assert third_resend.json()["message"].startswith("이 날의 정산 메시지는 이미 3건")
    # the POS button still answers: the day's first record, and nothing new is recorded
    assert plain.status_code == 200 and plain.json()["already_sent"] is True
    assert plain.json()["settlement_id"] == answers[0].json()["settlement_id"]


def test_the_11th_message_of_a_store_within_24_hours_is_a_429(bff_served, no_aws):
    store = new_store(bff_served.url, "per store in 24 hours")

    statuses = []
    for back in (1, 2, 3):
        statuses += [press(store, days_back(back)).status_code,
                     press(store, days_back(back), resend=True).status_code,
                     press(store, days_back(back), resend=True).status_code]
    statuses.append(press(store, days_back(4)).status_code)
    eleventh = press(store, days_back(5))

    assert statuses == [200] * 10
    wait = refusal(eleventh, 429, "settlement_sms_store_limit")
    assert 86_400 - 120 <= wait <= 86_400  # when the first of the ten leaves the window
    assert "24시간에 10건" in eleventh.json()["message"]


def test_stores_sharing_a_victims_phone_send_it_10_messages_and_the_11th_is_a_429(bff_served, no_aws):
    victim = fresh_phone()
    first, second = new_store(bff_served.url, "per phone in 24 hours", victim), \
        new_store(bff_served.url, "per phone in 24 hours", victim)
    bystander = new_store(bff_served.url, "per phone in 24 hours")

    statuses = []
    for back in (1, 2):  # six from the first store: two days, each the first and two resends
        statuses += [press(first, days_back(back)).status_code,
                     press(first, days_back(back), resend=True).status_code,
                     press(first, days_back(back), resend=True).status_code]
    statuses += [press(second, days_back(back)).status_code for back in (1, 2, 3, 4)]  # four from the second
    eleventh = press(second, days_back(5))
    first_again = press(first, days_back(3))
    other_phone = press(bystander, days_back(1))

    assert statuses == [200] * 10
    for refused in (eleventh, first_again):
        wait = refusal(refused, 429, "settlement_sms_phone_limit")
        assert 86_400 - 120 <= wait <= 86_400  # when the first of the ten leaves the window
        assert "같은 전화번호로는 24시간에 정산 메시지를 10건까지" in refused.json()["message"]
    assert other_phone.status_code == 200 and other_phone.json()["already_sent"] is False
    assert other_phone.json()["phone"] == e164(bystander.phone) != e164(victim)


def press_at_once(stores) -> dict:
    """Every store presses for yesterday at the same moment; their answers by store id."""
    barrier = threading.Barrier(len(stores), timeout=30)
    answers = {}

    def one(store):
        barrier.wait()
        answers[store.store_id] = press(store, days_back(1))

    threads = [threading.Thread(target=one, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_twelve_stores_with_one_phone_pressing_at_once_get_10_texts_and_2_429s(bff_served, no_aws):
    victim = fresh_phone()
    stores = [new_store(bff_served.url, "per phone, at once", victim) for _ in range(12)]
    answers = press_at_once(stores)

    assert sorted(answer.status_code for answer in answers.values()) == [200] * 10 + [429] * 2
    for answer in answers.values():
        if answer.status_code == 429:
            refusal(answer, 429, "settlement_sms_phone_limit")
    assert {answer.json()["phone"] for answer in answers.values() if answer.status_code == 200} == {e164(victim)}


# ---- a dashboard of this module's own, with a deployment-wide daily cap of 5 ----------------------

@pytest.fixture(scope="module")
def small_cap(database_url, store_service, item_service, order_service, sale_service, consulting_service):
    """A BFF in front of a dashboard whose deployment-wide daily cap is 5 (its own database, so the
    count is only this module's presses); the other services are the session's."""
    name = f"sms_cap_{uuid.uuid4().hex[:8]}"
    own_database = ensure_database(database_url, name)
    urls = local_service_urls(store=store_service, item=item_service, order=order_service, sale=sale_service)
    dashboard_app = create_dashboard(migrated_settings("dashboard", own_database, service_urls=urls),
                                     sms_limits=SmsLimits(daily_limit=SMALL_DAILY_LIMIT))
    dashboard = ServedApp(dashboard_app)
    # Without bulkheads, as the session's BFF (sweeps/conftest.py): every press must reach the dashboard at once.
    bff = serve_service("bff", None, overrides={"bulkhead_slots": {}}, store=store_service, item=item_service,
                        order=order_service, sale=sale_service, dashboard=dashboard, consulting=consulting_service)
    yield bff, dashboard, dashboard_app
    bff.shutdown()
    dashboard.shutdown()
    with dashboard_app.app_context():
        db.engine.dispose()
    drop_database(database_url, name)


def test_ten_stores_pressing_at_once_get_5_settlements_and_5_503s(small_cap, no_aws, caplog):
    bff, _, dashboard_app = small_cap
    stores = [new_store(bff.url, "deployment daily cap") for _ in range(10)]
    answers = press_at_once(stores)

    assert sorted(answer.status_code for answer in answers.values()) == [200] * 5 + [503] * 5
    now = datetime.datetime.now(UTC)
    midnight = datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time.min, tzinfo=UTC)
    for answer in answers.values():
        if answer.status_code == 503:
            wait = refusal(answer, 503, "sms_daily_limit")
            assert abs(wait - (midnight - now).total_seconds()) <= 10
    with dashboard_app.app_context():
        assert len(db.session.scalars(select(Settlement)).all()) == 5
        db.session.remove()
    assert "4 of the deployment's daily limit of 5 messages used (80%)" in caplog.text

    late = press(new_store(bff.url, "deployment daily cap"), days_back(2))  # one more store, later
    refusal(late, 503, "sms_daily_limit")


def test_the_providers_error_text_never_reaches_the_client(small_cap, no_aws, monkeypatch):
    bff, dashboard, dashboard_app = small_cap
    with dashboard_app.app_context():  # the cap is this module's: make room for these presses
        db.session.query(Settlement).delete()
        db.session.commit()
        db.session.remove()
    store = new_store(bff.url, "provider error text")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", "http://127.0.0.1:9")

    through_bff = press(store, days_back(1))
    # the dashboard's own answer, as the BFF gets it (not through the BFF: not counted)
    own = requests.get(f"{dashboard.url}/dashboard/calculate?date={days_back(2)}", timeout=30,
                       headers={"Authorization": f"Bearer {store.token}", **service_headers("dashboard")})

    assert through_bff.status_code == 502 and "127.0.0.1" not in through_bff.text
    assert own.status_code == 502 and own.json()["error"] == "sms_failed" and "reason" not in own.json()
    assert own.json()["message"] == "정산 메시지를 보내지 못했습니다. 잠시 후 다시 시도하세요."
    assert "127.0.0.1" not in own.text and "connect" not in own.text.lower()
    with dashboard_app.app_context():
        rows = db.session.scalars(select(Settlement).where(Settlement.store_id == store.store_id)).all()
        db.session.remove()
    assert [row.status for row in rows] == ["failed", "failed"]
    assert all("127.0.0.1:9" in row.failure_reason for row in rows)
