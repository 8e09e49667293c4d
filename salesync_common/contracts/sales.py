"""The sale service's revenue reports, read by the dashboard (and the POS, through the BFF)."""
from __future__ import annotations

from pydantic import BaseModel, StrictInt, StrictStr

from . import Day, Result


class DayRevenue(BaseModel):
    date: StrictStr
    sales_volume: StrictInt  # payments minus refunds
    payments: StrictInt
    refunds: StrictInt
    cash_total: StrictInt
    card_total: StrictInt


class DailyRevenue(DayRevenue, Result):
    """GET /sales/daily?date= (result and message first)."""


class PeriodRevenue(Result):
    """GET /sales/period?start&end: every business day of the period."""
    start_date: StrictStr
    end_date: StrictStr
    sales_volume: StrictInt
    days: list[DayRevenue]


class RefundItemDayLine(BaseModel):
    date: Day  # the business day of the refund
    sold_on: Day  # the business day its sale's lines were counted (the order's payment)
    item_id: StrictInt
    name: StrictStr  # as ordered
    quantity: StrictInt  # taken back: positive, as `refunds` in DayRevenue
    sales_volume: StrictInt


class RefundItemDayReport(BaseModel):
    """GET /internal/reports/refund-item-days?start&end: the lines of the sales refunded in the period,
    per business day of the refund, item and business day of the sale."""
    lines: list[RefundItemDayLine]


class PaymentTotals(BaseModel):
    start_date: StrictStr
    end_date: StrictStr
    sales_volume: StrictInt  # payments minus refunds
    payments: StrictInt  # how many
    refunds: StrictInt  # amount taken back
    cash_total: StrictInt
    card_total: StrictInt


class ConsultingSaleSummary(BaseModel):
    """GET /internal/consulting/sales?start&end (the consulting worker only): the payments of the period and
    of the period of the same length just before it, and the lines the period's refunds took back."""
    period: PaymentTotals
    previous: PaymentTotals
    refund_lines: list[RefundItemDayLine]
