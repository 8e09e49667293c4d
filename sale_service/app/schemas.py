"""Request bodies of the sale service."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, StrictInt

from salesync_common.field_types import Won

PAYMENT_METHODS = {"현금": "cash", "카드": "card", "cash": "cash", "card": "card"}


def _payment_method(value):
    if not isinstance(value, str) or value.strip().lower() not in PAYMENT_METHODS:
        raise ValueError("must be 현금 (cash) or 카드 (card)")
    return PAYMENT_METHODS[value.strip().lower()]


class Payment(BaseModel):
    table_no: Annotated[StrictInt, Field(ge=0, le=99)]
    payment_type: Annotated[str, BeforeValidator(_payment_method)]
    total_price: Annotated[Won, Field(le=100_000_000_000)]
