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


class PasswordChange(BaseModel):
    """GET /internal/stores/<id>/password-change: when the password last changed and which token changed it.

    Every token of the store issued before then is ended, but the one that made the change
    (salesync_common.tokens.ended_by_password_change); None, None: never changed.
    """
    store_id: StrictInt
    changed_at: float | None = None   # seconds since the epoch
    changed_by: StrictStr | None = None   # the jti of the token that changed it
