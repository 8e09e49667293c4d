"""A period's figures per item, read from the dashboard as the job's store.

The worker has no caller's token, so it re-issues a short-lived one for the job's store
(Decision 1). The figures hold item names and won amounts only: nothing that names the
store or its owner, because they are sent to the model as they are.
"""
from __future__ import annotations

import datetime

from salesync_common.contracts.dashboard import SalesReport
from salesync_common.errors import ApiError, UpstreamError
from salesync_common.service_client import ServiceClient
from salesync_common.tokens import issue_token

TOKEN_SECONDS = 60


class ReportUnavailable(Exception):
    """The sales report of the period could not be read; reason says why, for the store owner.

    transient: the dashboard could not be reached or failed (it may be restarting), so asking
    again later may succeed; a 4xx or a reply of the wrong shape will not change by waiting.
    """

    def __init__(self, reason: str, *, transient: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


def sales_report(*, client: ServiceClient, store_id: int, start: datetime.date, end: datetime.date,
                 jwt_secret: str) -> SalesReport:
    token = issue_token(store_id=store_id, secret=jwt_secret, ttl_seconds=TOKEN_SECONDS)
    try:
        reply = client.get("dashboard", "/dashboard/sales", params={"start": start.isoformat(), "end": end.isoformat()},
                           token=token)
    except UpstreamError as exc:
        raise ReportUnavailable(f"매출 조회 실패: 대시보드 서비스 응답 없음 ({exc.status})", transient=True) from None
    try:
        return reply.parsed(SalesReport, message="대시보드 서비스 오류")
    except UpstreamError:  # a 2xx of the wrong shape
        raise ReportUnavailable("매출 조회 실패: 대시보드 응답 형식이 올바르지 않습니다") from None
    except ApiError as exc:  # a 4xx, passed on
        raise ReportUnavailable(f"매출 조회 실패: {exc.message} ({exc.status})") from None


def margin_pct(profit: int, revenue: int) -> float | None:
    # None for no revenue, and for negative revenue (refunds of earlier sales), where a ratio would mislead.
    return round(profit * 100 / revenue, 1) if revenue > 0 else None


def period_figures(report: SalesReport, *, start: datetime.date, end: datetime.date) -> dict:
    """Per item: quantity, revenue, cost (revenue − profit), profit and margin %, best earners first.

    An item with cost_missing has no margin: its profit counts the missing cost as 0.
    """
    items = []
    for item in report.items:
        items.append({
            "name": item.name,
            "quantity": item.quantity,
            "revenue": item.sales_volume,
            "cost": item.sales_volume - item.profit,
            "profit": item.profit,
            "margin_pct": None if item.cost_missing else margin_pct(item.profit, item.sales_volume),
            "cost_missing": item.cost_missing,
        })
    items.sort(key=lambda item: (-item["profit"], -item["revenue"], item["name"]))
    revenue = sum(item["revenue"] for item in items)
    profit = sum(item["profit"] for item in items)
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "sales_volume": report.sales_volume,
        "totals": {"revenue": revenue, "cost": revenue - profit, "profit": profit,
                   "margin_pct": margin_pct(profit, revenue)},
        "items": items,
    }
