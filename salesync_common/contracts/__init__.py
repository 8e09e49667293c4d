"""The wire shapes services send each other: one pydantic model per reply, one module per producing service.

The service that answers builds its reply with the model (`Model(...).model_dump(mode="json")`), and every
service that reads it parses it with the same model (`reply.parsed(Model)`), so a field renamed or retyped on
one side fails a test on both. Consumers ignore fields they do not know (pydantic's default), so a producer
may add a field before its readers use it.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, StrictStr

Id = Annotated[StrictInt, Field(gt=0, description="a positive integer id")]


class Result(BaseModel):
    """The envelope of the replies the POS frontend also reads."""
    result: StrictStr
    message: StrictStr
