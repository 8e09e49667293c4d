"""What the consulting service publishes: the result of a job, on the Kafka topic `consulting`, keyed by req_id.

The consulting service serialises each message with ConsultingResultMessage and the dashboard's consumer
validates each record it reads with it (strictly, from the record's JSON): a record that does not fit is
not stored but dead-lettered. The limits are what the dashboard's columns hold.
"""
from __future__ import annotations

import datetime
import uuid
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, StrictInt, StrictStr, field_serializer

# dashboard.consulting_results.store_id is an INTEGER.
MAX_STORE_ID = 2**31 - 1
MAX_SOURCE_CHARS = 20
# A model's answer is a few thousand characters; far more is not advice but a record to refuse.
MAX_CONSULTING_CHARS = 100_000


def storable_text(value: str) -> str:
    """PostgreSQL text holds neither NUL nor lone surrogates (they are not UTF-8)."""
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate (not UTF-8)") from None
    return value


StoredText = Annotated[StrictStr, AfterValidator(storable_text)]


class ConsultingResultMessage(BaseModel):
    """One finished consulting job, as the dashboard stores it (one row per req_id)."""
    req_id: uuid.UUID
    store_id: Annotated[StrictInt, Field(gt=0, le=MAX_STORE_ID)]
    source: Annotated[StoredText, Field(min_length=1, max_length=MAX_SOURCE_CHARS)]
    consulting: Annotated[StoredText, Field(max_length=MAX_CONSULTING_CHARS)]
    created_at: AwareDatetime

    @field_serializer("created_at")
    def _iso(self, value: datetime.datetime) -> str:
        return value.isoformat()  # as the topic has always carried it ("+00:00", not pydantic's "Z")
