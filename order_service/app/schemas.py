"""Request bodies of the order service."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

from .models import MAX_TABLE_NO

MAX_QUANTITY = 999
MAX_LINES = 100

TableNo = Annotated[StrictInt, Field(ge=0, le=MAX_TABLE_NO)]


class CartLine(BaseModel):
    item_id: Annotated[StrictInt, Field(gt=0, le=2_147_483_647)]
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]


class OrderForm(BaseModel):
    """{table_no, carts:[{item_id, quantity}]}; table 0 is the kiosk. Extra keys (store_id) are ignored."""
    table_no: TableNo
    carts: Annotated[list[CartLine], Field(max_length=MAX_LINES)]


class PaymentClaim(BaseModel):
    sale_id: Annotated[StrictInt, Field(gt=0, le=2_147_483_647)]
    total_price: Annotated[StrictInt, Field(ge=0)]
