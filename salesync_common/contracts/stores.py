"""What the store service answers other services."""
from __future__ import annotations

import zoneinfo
from typing import Annotated

from pydantic import AfterValidator, BaseModel, StrictInt, StrictStr


def _known_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ValueError("must be an IANA time zone") from None
    return value


class StoreCard(BaseModel):
    """GET /internal/stores/me: the token's store, as the business day and the settlement SMS need it."""
    store_id: StrictInt
    store_name: StrictStr
    owner_name: StrictStr
    phone: StrictStr
    time_zone: Annotated[StrictStr, AfterValidator(_known_zone)]

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)
