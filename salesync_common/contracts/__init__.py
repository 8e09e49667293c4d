"""The wire shapes services send each other: one pydantic model per reply, one module per producing service.

The service that answers builds its reply with the model (`Model(...).model_dump(mode="json")`), and every
service that reads it parses it with the same model (`reply.parsed(Model)`), so a field renamed or retyped on
one side fails a test on both. Consumers ignore fields they do not know (pydantic's default), so a producer
may add a field before its readers use it.
"""
from __future__ import annotations

import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StrictInt, StrictStr

Id = Annotated[StrictInt, Field(gt=0, description="a positive integer id")]


def _calendar_day(value: str) -> str:
    datetime.date.fromisoformat(value)  # a ValueError is a validation error: the reply is of the wrong shape
    if len(value) != len("YYYY-MM-DD"):
        raise ValueError("a day is YYYY-MM-DD")
    return value


# A business day as text, YYYY-MM-DD: a reader parses it, so a reply with anything else fails its contract.
Day = Annotated[StrictStr, AfterValidator(_calendar_day)]


class Result(BaseModel):
    """The envelope of the replies the POS frontend also reads."""
    result: StrictStr
    message: StrictStr
