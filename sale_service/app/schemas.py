"""Request bodies of the sale service."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, StrictInt

PAYMENT_METHODS = {"현금": "cash", "카드": "card", "cash": "cash", "card": "card"}


def _payment_method(value):
    if not isinstance(value, str) or value.strip().lower() not in PAYMENT_METHODS:
        raise ValueError("must be 현금 (cash) or 카드 (card)")
    return PAYMENT_METHODS[value.strip().lower()]


def _won(value):
    """Integer won: a JSON integer, an integral number or a string of digits."""
    if isinstance(value, bool):
        raise ValueError("must be an amount in won")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


class Payment(BaseModel):
    table_no: Annotated[StrictInt, Field(ge=0, le=99)]
    payment_type: Annotated[str, BeforeValidator(_payment_method)]
    total_price: Annotated[StrictInt, BeforeValidator(_won), Field(ge=0, le=100_000_000_000)]
