"""The sale service's revenue reports, read by the dashboard (and the POS, through the BFF)."""
from __future__ import annotations

from pydantic import BaseModel, StrictInt, StrictStr

from . import Result


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
