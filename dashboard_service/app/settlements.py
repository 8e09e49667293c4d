"""정산: the figures of one business day sent to the owner's phone by SMS, and recorded.

The first SMS of a day is sent once. A press claims the day by committing a `sending` row
(a checkpoint of the request's unit of work) before it publishes; presses claim one at a time
(sms_quota.take_turn holds a lock while it counts), and the partial unique index guards the same
rule, so of two concurrent presses one publishes and the other answers the claimed settlement. A crash
after the claim leaves it `sending`: the day then counts as sent (never sent twice), and
`resend=true` sends again. Without AWS credentials or a mobile number the text is only recorded.
How many messages may go out (per day of a store, per store in 24 hours, per phone number in 24 hours over
all stores, per deployment per day) and how
far back a day may be settled are the limits of sms_quota.SmsLimits. The provider's error text stays in
the log and the settlement record; the client is told only that the SMS was not sent.
"""
from __future__ import annotations

import datetime
import logging
import unicodedata
import zoneinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesync_common.business_day import today_in
from salesync_common.errors import UpstreamError, ValidationFailed
from salesync_common.service_client import ServiceClient
from salesync_common.unit_of_work import UnitOfWork

from . import reports, sms, sms_quota, sources
from .models import FAILED, RECORDED, SENDING, SENT, SMS, Settlement

log = logging.getLogger(__name__)

MESSAGES = {
    SENT: "정산 완료: 메시지 전송 완료",
    "no_aws_credentials": "정산 완료: 문자 발송 설정(AWS)이 없어 메시지는 보내지 않고 기록만 했습니다.",
    "phone_not_mobile": "정산 완료: 가게 전화번호가 휴대폰 번호가 아니어서 메시지는 보내지 않고 기록만 했습니다.",
    "already_sent": "정산 완료: 이 날의 정산 메시지는 이미 보냈습니다. 다시 보내려면 resend=true로 요청하세요.",
    "already_sending": "정산 진행 중: 이 날의 정산 메시지를 보내는 중입니다.",
    "already_recorded": "정산 완료: 이 날에 보낼 수 있는 정산 메시지를 모두 사용해 처음 기록한 정산을 보여 드립니다.",
}
# A store chooses its name: in the text it loses control and format characters (no line breaks,
# bidi overrides or invisible characters) and is cut, so it cannot pose as another sender's text.
MAX_NAME_IN_TEXT = 20
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


class SettlementNotSent(UpstreamError):
    status = 502
    error = "sms_failed"


def figures_for(*, client: ServiceClient, store: dict, day: datetime.date) -> dict:
    """The day's revenue from the sale service and its profit from the paid order lines less the lines its
    refunds took back (at the cost of the day each refunded sale was made), as the reports count them."""
    revenue = sources.revenue_of_day(client=client, day=day)
    sold = sources.sold_in(client=client, start=day, end=day)
    profit, cost_missing = reports.profit_of(sold, sources.costs_of(client=client, sold=sold, end=day))
    return {"store_name": store["store_name"], "date": day.isoformat(), **revenue,
            "profit": profit, "cost_missing": cost_missing}


def name_in_text(store_name: str) -> str:
    shown = "".join(ch for ch in store_name if unicodedata.category(ch) not in _HIDDEN_CATEGORIES)
    return shown.strip()[:MAX_NAME_IN_TEXT].rstrip()


def settlement_text(figures: dict) -> str:
    refunds = f", 환불 {figures['refunds']:,}원" if figures["refunds"] else ""
    unknown_costs = " (원가 미등록 품목 있음)" if figures["cost_missing"] else ""
    return (f"[Salesync] {name_in_text(figures['store_name'])} {figures['date']} 정산\n"
            f"총 매출 {figures['sales_volume']:,}원 (결제 {figures['payments']:,}건{refunds})\n"
            f"현금 {figures['cash_total']:,}원 · 카드 {figures['card_total']:,}원\n"
            f"순이익 {figures['profit']:,}원{unknown_costs}")


def settle(*, unit: UnitOfWork, client: ServiceClient, store_id: int, day: datetime.date, resend: bool,
           limits: sms_quota.SmsLimits) -> dict:
    session = unit.session
    store = sources.my_store(client=client)
    _check_day(day, zone=store["time_zone"], limits=limits)
    if not resend:
        earlier = _first_sms(session, store_id=store_id, day=day)
        if earlier is not None:
            return _answer(earlier, already_sent=True)

    figures = figures_for(client=client, store=store, day=day)
    settlement = Settlement(store_id=store_id, business_date=day, figures=figures, text=settlement_text(figures),
                            resend=resend)
    only_record = _why_only_recorded(settlement, phone=store["phone"])
    earlier = sms_quota.take_turn(session, store_id=store_id, day=day, resend=resend, limits=limits,
                                  zone=store["time_zone"], phone=settlement.phone)
    if earlier is not None:
        return _answer(earlier, already_sent=True)
    if only_record:
        return _record_only(session, settlement, reason=only_record)

    settlement.channel, settlement.status = SMS, SENDING
    session.add(settlement)
    session.flush()
    unit.checkpoint("the day is claimed before the SMS goes out, so a crash never sends it twice")

    try:
        settlement.sns_message_id = sms.publish(phone=settlement.phone, text=settlement.text)
    except sms.SmsFailed as exc:
        log.warning("settlement SMS %s of store %s failed: %s", settlement.settlement_id, store_id, exc.reason)
        _finish(settlement, FAILED, failure_reason=exc.reason[:500])
        unit.checkpoint("the failed SMS is recorded although the request answers 502")
        # The provider's text (account, endpoint, limits) stays in the log and the record.
        raise SettlementNotSent("정산 메시지를 보내지 못했습니다. 잠시 후 다시 시도하세요.",
                                **_view(settlement, already_sent=False)) from None
    _finish(settlement, SENT)
    return _answer(settlement, already_sent=False)


def _check_day(day: datetime.date, *, zone: zoneinfo.ZoneInfo, limits: sms_quota.SmsLimits) -> None:
    today = today_in(zone)
    if day > today:
        raise ValidationFailed("date must not be after today (the store's business day)", field="date")
    if day < today - datetime.timedelta(days=limits.max_days_back):
        raise ValidationFailed(f"date must be at most {limits.max_days_back} days before today "
                               "(the store's business day)", field="date")


def _why_only_recorded(settlement: Settlement, *, phone: str) -> str | None:
    """Sets the settlement's phone; the reason the text can only be recorded, or None when it can be sent."""
    try:
        settlement.phone = sms.e164(phone)
    except ValueError:
        return "phone_not_mobile"
    if not sms.configured():
        return "no_aws_credentials"
    return None


def _first_sms(session: Session, *, store_id: int, day: datetime.date) -> Settlement | None:
    return session.scalar(select(Settlement).where(
        Settlement.store_id == store_id, Settlement.business_date == day,
        Settlement.status.in_([SENDING, SENT]), Settlement.resend.is_(False)))


def _record_only(session: Session, settlement: Settlement, *, reason: str) -> dict:
    settlement.channel, settlement.status = RECORDED, RECORDED
    settlement.failure_reason = reason
    settlement.finished_at = _now()
    session.add(settlement)
    session.flush()
    return {"message": MESSAGES[reason], **_view(settlement, already_sent=False), "reason": reason}


def _finish(settlement: Settlement, status: str, failure_reason: str | None = None) -> None:
    settlement.status = status
    settlement.failure_reason = failure_reason
    settlement.finished_at = _now()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _answer(settlement: Settlement, *, already_sent: bool) -> dict:
    """A sent (or being sent) settlement, or, when the day's messages are used up, the day's first record."""
    if not already_sent:
        message = MESSAGES[SENT]
    else:
        message = MESSAGES[{SENT: "already_sent", SENDING: "already_sending"}.get(settlement.status,
                                                                                  "already_recorded")]
    reason = settlement.failure_reason if settlement.status == RECORDED else None
    return {"message": message, **_view(settlement, already_sent=already_sent), "reason": reason}


def _view(settlement: Settlement, *, already_sent: bool) -> dict:
    return {
        "sent": settlement.status == SENT,
        "channel": settlement.channel,
        "already_sent": already_sent,
        "date": settlement.business_date.isoformat(),
        "figures": settlement.figures,
        "text": settlement.text,
        "phone": settlement.phone,
        "settlement_id": settlement.settlement_id,
        "state": settlement.status,
    }
