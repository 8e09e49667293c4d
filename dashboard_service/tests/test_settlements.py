import datetime
import threading

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from dashboard_service.app import sms
from dashboard_service.app.settlements import settlement_text

from .conftest import days_ago, press, recorded, today


@pytest.fixture
def pizzeria(shop):
    """Yesterday: two pepperoni and a cola by card, a potato pizza in cash; costs in force since 10 days ago."""
    pizzeria = shop(store_name="피자가게", phone="01012345678")
    pizzeria.set_costs(effective_date=days_ago(10), **{"페퍼로니 피자": 6000, "포테이토 피자": 8000, "콜라": 700})
    pizzeria.sell(days_ago(1), **{"페퍼로니 피자": 2, "콜라": 1})
    pizzeria.sell(days_ago(1), payment_type="현금", **{"포테이토 피자": 1})
    pizzeria.sell(days_ago(2), **{"콜라": 5})
    return pizzeria


def yesterdays_text():
    return (f"[Salesync] 피자가게 {days_ago(1).isoformat()} 정산\n"
            "총 매출 59,000원 (결제 2건)\n"
            "현금 21,000원 · 카드 38,000원\n"
            "순이익 38,300원")


def test_the_settlement_sms_reaches_the_owners_phone_with_the_days_figures(app, client, pizzeria, sns):
    response = press(client, pizzeria, days_ago(1))

    assert response.status_code == 200
    body = response.get_json()
    assert body["result"] == "success" and body["message"] == "정산 완료: 메시지 전송 완료"
    assert body["sent"] is True and body["channel"] == "sms" and body["already_sent"] is False
    assert body["date"] == days_ago(1).isoformat() and body["phone"] == "+821012345678"
    assert body["figures"] == {"store_name": "피자가게", "date": days_ago(1).isoformat(), "sales_volume": 59000,
                               "payments": 2, "refunds": 0, "cash_total": 21000, "card_total": 38000,
                               "profit": 59000 - 2 * 6000 - 700 - 8000, "cost_missing": False}
    assert body["text"] == yesterdays_text()
    assert list(sns().values()) == [("+821012345678", yesterdays_text())]
    [row] = recorded(app, pizzeria)
    assert (row.status, row.channel, row.business_date) == ("sent", "sms", days_ago(1))
    assert row.sns_message_id in sns() and row.figures == body["figures"] and row.text == body["text"]


def test_pressing_twice_sends_once_and_answers_the_recorded_settlement(app, client, pizzeria, sns):
    first = press(client, pizzeria, days_ago(1)).get_json()
    pizzeria.sell(days_ago(1), **{"콜라": 1})  # figures that changed since do not trigger a second SMS

    second = press(client, pizzeria, days_ago(1))

    assert second.status_code == 200
    assert second.get_json()["already_sent"] is True and second.get_json()["sent"] is True
    assert second.get_json()["figures"] == first["figures"] and second.get_json()["text"] == first["text"]
    assert len(sns()) == 1 and len(recorded(app, pizzeria)) == 1


def test_resend_sends_again_with_the_current_figures_and_records_again(app, client, pizzeria, sns):
    press(client, pizzeria, days_ago(1))
    pizzeria.sell(days_ago(1), **{"콜라": 1})

    again = press(client, pizzeria, days_ago(1), resend="true")

    assert again.status_code == 200
    body = again.get_json()
    assert body["sent"] is True and body["already_sent"] is False and body["figures"]["sales_volume"] == 61000
    assert len(sns()) == 2
    assert [(row.status, row.resend) for row in recorded(app, pizzeria)] == [("sent", False), ("sent", True)]
    assert press(client, pizzeria, days_ago(1)).get_json()["already_sent"] is True
    assert len(sns()) == 2


def test_another_day_and_another_store_are_settled_on_their_own(client, pizzeria, shop, sns):
    other = shop(phone="01098765432")
    assert press(client, pizzeria, days_ago(1)).get_json()["already_sent"] is False
    assert press(client, pizzeria, days_ago(2)).get_json()["already_sent"] is False

    theirs = press(client, other, days_ago(1)).get_json()

    assert theirs["already_sent"] is False and theirs["phone"] == "+821098765432"
    assert theirs["figures"]["sales_volume"] == 0 and theirs["figures"]["profit"] == 0
    assert sorted(phone for phone, _ in sns().values()) == ["+821012345678", "+821012345678", "+821098765432"]


def test_the_region_comes_from_the_environment(client, pizzeria, sns, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert press(client, pizzeria, days_ago(1)).get_json()["sent"] is True
    assert len(sns("us-east-1")) == 1 and len(sns("ap-northeast-1")) == 0 and len(sns("eu-west-1")) == 0


def test_without_aws_credentials_the_settlement_is_only_recorded(app, client, pizzeria, no_aws_credentials):
    response = press(client, pizzeria, days_ago(1))

    assert response.status_code == 200
    body = response.get_json()
    assert body["sent"] is False and body["channel"] == "recorded" and body["already_sent"] is False
    assert "기록만" in body["message"] and body["reason"] == "no_aws_credentials"
    assert body["text"] == yesterdays_text() and body["phone"] == "+821012345678"
    assert no_aws_credentials() == {}
    [row] = recorded(app, pizzeria)
    assert (row.status, row.channel, row.sns_message_id) == ("recorded", "recorded", None)


def test_a_recorded_settlement_does_not_count_as_sent(app, client, pizzeria, monkeypatch):
    monkeypatch.setattr(sms, "configured", lambda: False)
    press(client, pizzeria, days_ago(1))
    monkeypatch.undo()

    with mock_aws():
        sent = press(client, pizzeria, days_ago(1)).get_json()
        assert sent["sent"] is True and sent["already_sent"] is False
        assert len(sns_backends[DEFAULT_ACCOUNT_ID]["ap-northeast-1"].sms_messages) == 1
    assert [row.status for row in recorded(app, pizzeria)] == ["recorded", "sent"]


def test_a_phone_that_is_not_a_mobile_is_flagged_and_the_settlement_only_recorded(app, client, shop, sns):
    landline = shop(phone="02123456789")

    body = press(client, landline, days_ago(1)).get_json()

    assert body["sent"] is False and body["channel"] == "recorded" and body["reason"] == "phone_not_mobile"
    assert body["phone"] is None and sns() == {}
    assert recorded(app, landline)[0].status == "recorded"


class RefusingSession(boto3.Session):
    """A boto3 session whose SNS client is refused by AWS (throttled)."""

    def client(self, *args, **kwargs):
        client = super().client(*args, **kwargs)
        stubber = Stubber(client)
        stubber.add_client_error("publish", service_error_code="Throttling", service_message="Rate exceeded",
                                 http_status_code=400)
        stubber.activate()
        return client


def test_an_sns_error_is_a_502_recorded_as_failed_and_its_text_kept_from_the_client(app, client, pizzeria, sns,
                                                                                    monkeypatch, caplog):
    monkeypatch.setattr(sms.boto3, "Session", RefusingSession)

    response = press(client, pizzeria, days_ago(1))

    assert response.status_code == 502
    body = response.get_json()
    assert body["error"] == "sms_failed"
    assert body["message"] == "정산 메시지를 보내지 못했습니다. 잠시 후 다시 시도하세요."
    assert body["sent"] is False and body["state"] == "failed" and "reason" not in body
    answered = response.get_data(as_text=True)
    assert "Rate exceeded" not in answered and "Throttling" not in answered
    assert body["figures"]["sales_volume"] == 59000 and body["text"] == yesterdays_text()
    [row] = recorded(app, pizzeria)
    assert (row.status, row.failure_reason) == ("failed", "Throttling: Rate exceeded")
    assert "Throttling: Rate exceeded" in caplog.text

    monkeypatch.undo()  # SNS works again: the failed attempt does not count as sent
    assert press(client, pizzeria, days_ago(1)).get_json()["sent"] is True
    assert len(sns()) == 1


def test_an_unreachable_sns_is_a_502_recorded_as_failed_without_its_address(app, client, pizzeria, monkeypatch,
                                                                            caplog):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", "http://127.0.0.1:9")

    response = press(client, pizzeria, days_ago(1))

    assert response.status_code == 502 and response.get_json()["error"] == "sms_failed"
    assert "127.0.0.1:9" not in response.get_data(as_text=True)
    [row] = recorded(app, pizzeria)
    assert row.status == "failed" and "127.0.0.1:9" in row.failure_reason and "127.0.0.1:9" in caplog.text


def test_two_presses_at_once_send_one_sms(app, pizzeria, sns, monkeypatch):
    # Both presses get past the "already sent?" check before either claims the day.
    barrier = threading.Barrier(2, timeout=10)
    configured = sms.configured
    monkeypatch.setattr(sms, "configured", lambda: barrier.wait() is not None and configured())
    answers = []

    def press_once():
        answers.append(press(app.test_client(), pizzeria, days_ago(1)))

    threads = [threading.Thread(target=press_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert [answer.status_code for answer in answers] == [200, 200]
    assert sorted(answer.get_json()["already_sent"] for answer in answers) == [False, True]
    assert len(sns()) == 1
    assert [row.status for row in recorded(app, pizzeria)] == ["sent"]


@pytest.mark.parametrize("query,field", [
    ("", "date"), ("date=", "date"), ("date=2024-1-5", "date"), ("date=2024-02-30", "date"),
    ("date=yesterday", "date"), (f"date={(today() + datetime.timedelta(days=1)).isoformat()}", "date"),
    (f"date={today().isoformat()}&resend=maybe", "resend"),
])
def test_a_bad_date_or_resend_is_a_400_naming_it(client, shop, sns, query, field):
    response = client.get(f"/dashboard/calculate?{query}", headers=shop().headers)
    assert response.status_code == 400 and response.get_json()["field"] == field
    assert sns() == {}


def test_today_can_be_settled_and_a_quiet_day_settles_at_zero(client, shop, sns):
    body = press(client, shop(store_name="조용한가게"), today()).get_json()
    assert body["sent"] is True
    assert body["text"] == (f"[Salesync] 조용한가게 {today().isoformat()} 정산\n총 매출 0원 (결제 0건)\n"
                            "현금 0원 · 카드 0원\n순이익 0원")


def test_the_text_mentions_refunds_and_missing_costs():
    figures = {"store_name": "피자가게", "date": "2024-01-25", "sales_volume": 112000, "payments": 12,
               "refunds": 11000, "cash_total": 23000, "card_total": 89000, "profit": 71000, "cost_missing": True}
    assert settlement_text(figures) == ("[Salesync] 피자가게 2024-01-25 정산\n"
                                        "총 매출 112,000원 (결제 12건, 환불 11,000원)\n"
                                        "현금 23,000원 · 카드 89,000원\n"
                                        "순이익 71,000원 (원가 미등록 품목 있음)")


@pytest.mark.parametrize("phone,expected", [
    ("01012345678", "+821012345678"), ("0101234567", "+82101234567"), ("010-1234-5678", "+821012345678"),
    ("+821012345678", "+821012345678"), ("01612345678", "+821612345678"),
])
def test_korean_mobile_numbers_become_e164(phone, expected):
    assert sms.e164(phone) == expected


@pytest.mark.parametrize("phone", ["02123456789", "0212345678", "010123456", "010123456789", "01512345678",
                                   "1012345678", "", "abcdefghijk", "+8201012345678"])
def test_anything_but_a_korean_mobile_number_is_refused(phone):
    with pytest.raises(ValueError):
        sms.e164(phone)


@pytest.mark.parametrize("store_name,shown", [
    ("피자\u202e가게", "피자가게"),                                # a bidi override
    ("피자\u200b가게\u2060", "피자가게"),                          # zero-width characters
    ("피자가게\n[국세청] 환급금 안내\r\n", "피자가게[국세청] 환급금 안내"),  # line breaks: no text of its own
    ("피자\u2028가게\x00\x1b[31m", "피자가게[31m"),               # a line separator, NUL and ESC
    ("가" * 25, "가" * 20),                                        # cut to 20 characters
    ("  피자가게  ", "피자가게"),
])
def test_the_store_name_in_the_text_loses_control_and_format_characters_and_is_cut_to_20(store_name, shown):
    figures = {"store_name": store_name, "date": "2024-01-25", "sales_volume": 0, "payments": 0, "refunds": 0,
               "cash_total": 0, "card_total": 0, "profit": 0, "cost_missing": False}
    assert settlement_text(figures).splitlines()[0] == f"[Salesync] {shown} 2024-01-25 정산"
    assert len(settlement_text(figures).splitlines()) == 4


def test_a_long_store_name_reaches_the_phone_cut_to_20_characters(client, shop, sns):
    long_name = "아주아주긴이름의피자가게서울강남역점본점이에요"  # 23 characters
    body = press(client, shop(store_name=long_name, phone="01012345678"), days_ago(1)).get_json()

    assert body["figures"]["store_name"] == long_name  # the figures keep the name as registered
    [(_, text)] = sns().values()
    assert text.splitlines()[0] == f"[Salesync] {long_name[:20]} {days_ago(1).isoformat()} 정산"
