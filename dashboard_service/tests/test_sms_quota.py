"""The settlement SMS limits: how far back, per store and business day, per store in 24 hours, per phone
number in 24 hours over all stores, and per deployment per day, each with the issue's default, and counted
exactly when presses race."""
import datetime
import logging
import threading

import pytest
from sqlalchemy import delete, insert, select, text

from dashboard_service.app import sms
from dashboard_service.app.models import Settlement, db
from dashboard_service.app.sms_quota import SmsLimits
from salesync_common.settings import ConfigError

from .conftest import SEOUL, days_ago, press, recorded, today

UTC = datetime.UTC


@pytest.fixture(autouse=True)
def no_settlements_before(app):
    """The deployment-wide count sees every store: start from none, whatever ran before in this database."""
    with app.app_context():
        db.session.execute(delete(Settlement))
        db.session.commit()
        db.session.remove()


def earlier_messages(app, *, count: int, at: datetime.datetime, store_id: int = 999_999,
                     day: datetime.date | None = None, phone: str | None = None) -> None:
    """`count` settlement texts recorded at `at` (of another store unless store_id says whose; to no phone
    unless phone, in E.164, says which)."""
    rows = [{"store_id": store_id, "business_date": day or days_ago(6), "figures": {}, "text": "earlier",
             "phone": phone, "channel": "recorded", "status": "recorded", "failure_reason": "no_aws_credentials",
             "created_at": at}
            for _ in range(count)]
    with app.app_context():
        db.session.execute(insert(Settlement), rows)
        db.session.commit()
        db.session.remove()


def seconds_until(instant: datetime.datetime) -> float:
    return (instant - datetime.datetime.now(UTC)).total_seconds()


def refused(response, status: int, error: str) -> int:
    """The refusal's Retry-After in seconds, after checking it is the common JSON error with that status."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["result"] == "failed" and body["error"] == error
    assert body["retry_after"] == int(response.headers["Retry-After"]) >= 1
    return int(response.headers["Retry-After"])


# ---- how far back ---------------------------------------------------------------------------------

def test_a_day_7_days_back_is_settled_and_8_days_back_is_a_400_naming_date(app, client, shop, sns):
    store = shop(phone="01012345678")

    assert press(client, store, days_ago(7)).get_json()["sent"] is True
    too_old = press(client, store, days_ago(8))

    assert too_old.status_code == 400
    assert too_old.get_json()["field"] == "date" and "7 days" in too_old.get_json()["message"]
    assert len(sns()) == 1 and [row.business_date for row in recorded(app, store)] == [days_ago(7)]


def test_a_future_day_is_still_a_400_naming_date(client, shop, sns):
    response = press(client, shop(), today() + datetime.timedelta(days=1))
    assert response.status_code == 400 and response.get_json()["field"] == "date" and sns() == {}


# ---- per store and business day: the first message and two resends --------------------------------

def test_a_day_sends_the_first_message_and_two_resends_and_the_third_resend_is_a_429(app, client, shop, sns):
    store = shop(phone="01012345678")
    first = press(client, store, days_ago(1)).get_json()
    assert [press(client, store, days_ago(1), resend="true").get_json()["sent"] for _ in range(2)] == [True, True]

    third_resend = press(client, store, days_ago(1), resend="true")

    wait = refused(third_resend, 429, "settlement_sms_day_limit")
    assert "3건" in third_resend.get_json()["message"] and "재전송 2건" in third_resend.get_json()["message"]
    tomorrow = datetime.datetime.combine(today() + datetime.timedelta(days=1), datetime.time.min, tzinfo=SEOUL)
    assert abs(wait - seconds_until(tomorrow)) <= 5
    assert len(sns()) == 3 and len(recorded(app, store)) == 3

    plain = press(client, store, days_ago(1))  # the POS button still answers the day's first SMS
    assert plain.status_code == 200
    assert plain.get_json()["already_sent"] is True and plain.get_json()["settlement_id"] == first["settlement_id"]
    assert len(sns()) == 3 and len(recorded(app, store)) == 3


def test_recorded_texts_count_too_and_a_plain_press_then_answers_the_first_record(app, client, shop,
                                                                                  no_aws_credentials):
    store = shop(phone="01012345678")
    answers = [press(client, store, days_ago(1)).get_json() for _ in range(3)]
    assert [answer["channel"] for answer in answers] == ["recorded"] * 3

    resend = press(client, store, days_ago(1), resend="true")
    plain = press(client, store, days_ago(1))

    refused(resend, 429, "settlement_sms_day_limit")
    assert plain.status_code == 200
    body = plain.get_json()
    assert body["already_sent"] is True and body["sent"] is False and body["state"] == "recorded"
    assert body["settlement_id"] == answers[0]["settlement_id"] and body["reason"] == "no_aws_credentials"
    assert "처음 기록한 정산" in body["message"]
    assert len(recorded(app, store)) == 3 and no_aws_credentials() == {}


def test_failed_attempts_count_and_without_a_record_to_show_a_plain_press_is_a_429(app, client, shop,
                                                                                    monkeypatch):
    store = shop(phone="01012345678")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", "http://127.0.0.1:9")
    assert [press(client, store, days_ago(1)).status_code for _ in range(3)] == [502, 502, 502]

    refused(press(client, store, days_ago(1)), 429, "settlement_sms_day_limit")
    assert [row.status for row in recorded(app, store)] == ["failed"] * 3


def test_another_day_of_the_same_store_has_its_own_three(client, shop, sns):
    store = shop(phone="01012345678")
    for _ in range(3):
        press(client, store, days_ago(1), resend="true")
    assert [press(client, store, days_ago(2), resend="true").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert len(sns()) == 6


# ---- per store in any 24 hours ---------------------------------------------------------------------

def test_a_store_sends_at_most_10_messages_in_24_hours(app, client, shop, sns):
    store = shop(phone="01012345678")
    for back in (0, 1, 2):
        assert [press(client, store, days_ago(back), resend=flag).status_code
                for flag in (None, "true", "true")] == [200, 200, 200]
    assert press(client, store, days_ago(3)).get_json()["sent"] is True  # the 10th

    eleventh = press(client, store, days_ago(4))

    wait = refused(eleventh, 429, "settlement_sms_store_limit")
    assert 86_400 - 30 <= wait <= 86_400
    assert "24시간에 10건" in eleventh.get_json()["message"]
    assert len(sns()) == 10 and len(recorded(app, store)) == 10


def test_the_24_hour_wait_counts_from_when_the_oldest_counted_message_leaves(app, client, shop, sns):
    store = shop(phone="01012345678")
    now = datetime.datetime.now(UTC)
    earlier_messages(app, store_id=store.store_id, count=3, at=now - datetime.timedelta(hours=25))  # left already
    earlier_messages(app, store_id=store.store_id, count=1, at=now - datetime.timedelta(hours=23))
    earlier_messages(app, store_id=store.store_id, count=9, at=now - datetime.timedelta(hours=2), day=days_ago(5))
    earlier_messages(app, count=10, at=now - datetime.timedelta(hours=1))  # another store's do not count

    wait = refused(press(client, store, days_ago(1)), 429, "settlement_sms_store_limit")

    assert abs(wait - 3600) <= 30  # the one from 23 hours ago leaves in an hour
    earlier_messages_leave(app, store_id=store.store_id, hours=23)
    assert press(client, store, days_ago(1)).get_json()["sent"] is True
    assert len(sns()) == 1


def earlier_messages_leave(app, *, store_id: int, hours: int) -> None:
    """The messages recorded `hours` ago move out of the 24-hour window (as if a day had passed)."""
    with app.app_context():
        for row in db.session.query(Settlement).filter(Settlement.store_id == store_id).all():
            age = datetime.datetime.now(UTC) - row.created_at
            if abs(age - datetime.timedelta(hours=hours)) < datetime.timedelta(minutes=5):
                row.created_at -= datetime.timedelta(hours=2)
        db.session.commit()
        db.session.remove()


# ---- per destination phone in any 24 hours, over all stores --------------------------------------------

VICTIM, VICTIM_E164 = "01055550000", "+821055550000"


def test_stores_sharing_one_phone_send_it_at_most_10_messages_in_24_hours(app, client, shop, sns):
    first, second = shop(phone=VICTIM), shop(phone=VICTIM)
    bystander = shop(phone="01098765432")
    for back in (0, 1):  # 6 messages from the first store: two days, each the first and two resends
        assert [press(client, first, days_ago(back), resend=flag).status_code
                for flag in (None, "true", "true")] == [200, 200, 200]
    assert [press(client, second, days_ago(back)).status_code for back in (0, 1, 2, 3)] == [200] * 4  # 7th-10th

    eleventh = press(client, second, days_ago(4))
    first_again = press(client, first, days_ago(2))
    other_phone = press(client, bystander, days_ago(1))

    for response in (eleventh, first_again):
        wait = refused(response, 429, "settlement_sms_phone_limit")
        assert 86_400 - 60 <= wait <= 86_400
        assert "같은 전화번호로는 24시간에 정산 메시지를 10건까지" in response.get_json()["message"]
    assert other_phone.status_code == 200 and other_phone.get_json()["sent"] is True
    to_victim = [phone for phone, _ in sns().values() if phone == VICTIM_E164]
    assert len(to_victim) == 10 and len(sns()) == 11
    assert len(recorded(app, first)) == 6 and len(recorded(app, second)) == 4


def test_recorded_and_failed_texts_to_the_phone_count_and_the_wait_ends_when_the_oldest_leaves(app, client, shop,
                                                                                             sns):
    store = shop(phone=VICTIM)
    now = datetime.datetime.now(UTC)
    earlier_messages(app, count=4, at=now - datetime.timedelta(hours=25), phone=VICTIM_E164)  # left already
    earlier_messages(app, count=1, at=now - datetime.timedelta(hours=23), phone=VICTIM_E164)
    earlier_messages(app, count=9, at=now - datetime.timedelta(hours=2), phone=VICTIM_E164)
    earlier_messages(app, count=10, at=now - datetime.timedelta(hours=1), phone="+821098765432")  # another phone
    with app.app_context():  # of the 9 recent ones, 3 were failed sends: they count as well
        recent = db.session.scalars(select(Settlement).where(
            Settlement.phone == VICTIM_E164, Settlement.created_at > now - datetime.timedelta(hours=3))).all()
        for row in recent[:3]:
            row.channel, row.status, row.failure_reason = "sms", "failed", "timeout"
        db.session.commit()
        db.session.remove()

    wait = refused(press(client, store, days_ago(1)), 429, "settlement_sms_phone_limit")

    assert abs(wait - 3600) <= 30  # the one from 23 hours ago leaves in an hour
    earlier_messages_leave(app, store_id=999_999, hours=23)
    assert press(client, store, days_ago(1)).get_json()["sent"] is True
    assert len(sns()) == 1


def test_landlines_record_without_counting_as_one_phone(app, client, shop, no_aws_credentials):
    landlines = [shop(phone="02123456789"), shop(phone="03112345678")]  # texts to no phone: 12 of them pass
    for landline in landlines:
        assert [press(client, landline, days_ago(back)).status_code for back in range(6)] == [200] * 6
    assert {row.phone for landline in landlines for row in recorded(app, landline)} == {None}


def test_ten_presses_of_ten_stores_at_once_send_one_phone_at_most_its_limit(app, shop, no_aws_credentials,
                                                                            monkeypatch):
    stores = [shop(phone=VICTIM) for _ in range(10)]
    earlier_messages(app, count=7, at=datetime.datetime.now(UTC), phone=VICTIM_E164)

    answers = press_at_once(app, [(store, days_ago(1), None) for store in stores], monkeypatch)

    assert sorted(answer.status_code for answer in answers) == [200] * 3 + [429] * 7
    assert {answer.get_json()["error"] for answer in answers if answer.status_code == 429} == {
        "settlement_sms_phone_limit"}
    assert sum(len(recorded(app, store)) for store in stores) == 3


# ---- the deployment's daily limit ------------------------------------------------------------------

def test_the_deployment_sends_1000_messages_a_day_then_answers_503_until_midnight_utc(app, client, shop, sns,
                                                                                      caplog):
    first, second = shop(phone="01012345678"), shop(phone="01098765432")
    now = datetime.datetime.now(UTC)
    midnight = datetime.datetime.combine(now.date(), datetime.time.min, tzinfo=UTC)
    earlier_messages(app, count=5, at=midnight - datetime.timedelta(seconds=1))  # yesterday's (UTC) do not count
    earlier_messages(app, count=999, at=max(midnight, now - datetime.timedelta(minutes=1)))

    assert press(client, first, days_ago(1)).get_json()["sent"] is True  # the 1000th
    over = press(client, second, days_ago(1))

    wait = refused(over, 503, "sms_daily_limit")
    assert abs(wait - seconds_until(midnight + datetime.timedelta(days=1))) <= 5
    assert "내일 다시" in over.get_json()["message"]
    assert len(sns()) == 1 and recorded(app, second) == []
    assert "daily limit of 1000 messages is reached" in caplog.text


def test_the_operator_is_warned_when_800_of_the_1000_messages_are_used(app, client, shop, sns, caplog):
    store = shop(phone="01012345678")
    earlier_messages(app, count=798, at=datetime.datetime.now(UTC) - datetime.timedelta(seconds=10))
    caplog.set_level(logging.WARNING, logger="dashboard_service.app.sms_quota")

    press(client, store, days_ago(1))  # the 799th
    assert "daily limit" not in caplog.text
    press(client, store, days_ago(2))  # the 800th

    warnings = [record for record in caplog.records if "daily limit" in record.getMessage()]
    assert [(record.levelname, record.getMessage()) for record in warnings] == [
        ("WARNING", "settlement SMS: 800 of the deployment's daily limit of 1000 messages used (80%)")]


# ---- presses at once -------------------------------------------------------------------------------

def press_at_once(app, presses, monkeypatch):
    """Run the presses in threads that all get past the figures before any of them counts; their answers."""
    barrier = threading.Barrier(len(presses), timeout=30)
    configured = sms.configured
    monkeypatch.setattr(sms, "configured", lambda: barrier.wait() is not None and configured())
    answers = [None] * len(presses)

    def run(n, store, day, resend):
        answers[n] = press(app.test_client(), store, day, resend=resend)

    threads = [threading.Thread(target=run, args=(n, *args)) for n, args in enumerate(presses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_ten_resends_at_once_send_three(app, shop, sns, monkeypatch):
    store = shop(phone="01012345678")

    answers = press_at_once(app, [(store, days_ago(1), "true")] * 10, monkeypatch)

    assert sorted(answer.status_code for answer in answers) == [200] * 3 + [429] * 7
    assert len(sns()) == 3 and len(recorded(app, store)) == 3


def test_ten_presses_at_once_stay_within_the_24_hour_limit(app, shop, no_aws_credentials, monkeypatch):
    store = shop(phone="01012345678")
    monkeypatch.setitem(app.extensions, "sms_limits", SmsLimits(per_business_day=100))
    earlier_messages(app, store_id=store.store_id, count=8, at=datetime.datetime.now(UTC))

    answers = press_at_once(app, [(store, days_ago(1), "true")] * 10, monkeypatch)

    assert sorted(answer.status_code for answer in answers) == [200] * 2 + [429] * 8
    assert len(recorded(app, store)) == 10


def test_ten_stores_at_once_stay_within_the_deployments_limit(app, shop, no_aws_credentials, monkeypatch):
    monkeypatch.setitem(app.extensions, "sms_limits", SmsLimits(daily_limit=5))
    stores = [shop(phone="01012345678") for _ in range(10)]

    answers = press_at_once(app, [(store, days_ago(1), None) for store in stores], monkeypatch)

    assert sorted(answer.status_code for answer in answers) == [200] * 5 + [503] * 5
    assert sum(len(recorded(app, store)) for store in stores) == 5


# ---- settings --------------------------------------------------------------------------------------

def test_the_limits_default_to_7_days_3_a_day_10_in_24_hours_10_per_phone_and_1000_a_day():
    assert SmsLimits.from_env({}) == SmsLimits(max_days_back=7, per_business_day=3, per_store_24h=10,
                                               per_phone_24h=10, daily_limit=1000)


def test_the_limits_are_read_from_the_environment():
    env = {"SALESYNC_SMS_MAX_DAYS_BACK": "2", "SALESYNC_SMS_PER_BUSINESS_DAY": "1",
           "SALESYNC_SMS_PER_STORE_24H": "4", "SALESYNC_SMS_PER_PHONE_24H": "6", "SALESYNC_SMS_DAILY_LIMIT": "50"}
    assert SmsLimits.from_env(env) == SmsLimits(max_days_back=2, per_business_day=1, per_store_24h=4,
                                                per_phone_24h=6, daily_limit=50)


@pytest.mark.parametrize("name,value", [("SALESYNC_SMS_DAILY_LIMIT", "0"), ("SALESYNC_SMS_PER_BUSINESS_DAY", "many"),
                                        ("SALESYNC_SMS_MAX_DAYS_BACK", "-1"), ("SALESYNC_SMS_PER_STORE_24H", "1.5"),
                                        ("SALESYNC_SMS_PER_PHONE_24H", "0")])
def test_a_wrong_limit_is_a_configuration_error_naming_it(name, value):
    with pytest.raises(ConfigError, match=name):
        SmsLimits.from_env({name: value})


def test_a_press_that_waits_over_5_seconds_for_its_turn_is_a_503_not_a_500(app, client, shop, no_aws_credentials):
    store = shop(phone="01012345678")
    with app.app_context():  # another press holds the turn (as a stuck transaction would)
        holder = db.engine.connect()
        holder.execute(text("SELECT pg_advisory_lock(hashtext('salesync-dashboard-settlement-sms'))"))
    try:
        response = press(client, store, days_ago(1))
    finally:
        holder.execute(text("SELECT pg_advisory_unlock_all()"))
        holder.close()

    assert refused(response, 503, "settlement_busy") == 1
    assert recorded(app, store) == []
    assert press(client, store, days_ago(1)).status_code == 200
