"""Request bodies of the store service, with the rules the POS frontend enforces (API.md §12.3)."""
from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, model_validator

from salesync_common.field_types import name_text

STORE_TYPES = ("휴게음식점", "일반음식점", "단란주점업", "유흥주점업", "위탁급식업", "제과점업")

_PASSWORD_CHARS = re.compile(r"^[A-Za-z0-9@$!%*?&]{10,16}$")


def _strong_password(value: str) -> str:
    if not _PASSWORD_CHARS.match(value):
        raise ValueError("must be 10 to 16 characters of letters, digits and @$!%*?&")
    missing = [label for label, pattern in (
        ("a lower-case letter", r"[a-z]"), ("an upper-case letter", r"[A-Z]"),
        ("a digit", r"[0-9]"), ("one of @$!%*?&", r"[@$!%*?&]"),
    ) if not re.search(pattern, value)]
    if missing:
        raise ValueError("must contain " + ", ".join(missing))
    return value


def _known_time_zone(value: str) -> str:
    if value not in zoneinfo.available_timezones():
        raise ValueError("must be an IANA time zone such as Asia/Seoul")
    return value


def _text(min_length: int, max_length: int, pattern: str | None = None, *, strip: bool = True):
    return Annotated[str, StringConstraints(strict=True, strip_whitespace=strip,
                                            min_length=min_length, max_length=max_length, pattern=pattern)]


Username = _text(8, 16, r"^[A-Za-z0-9]+$")
Password = Annotated[_text(10, 16, strip=False), AfterValidator(_strong_password)]
OwnerName = name_text(2, 20, r"^[가-힣A-Za-z]+$")
Phone = _text(11, 11, r"^[0-9]+$")
TimeZone = Annotated[_text(1, 64), AfterValidator(_known_time_zone)]


class SignUp(BaseModel):
    username: Username
    password: Password
    owner_name: OwnerName
    phone: Phone
    store_name: name_text(1, 100)
    address: _text(1, 200)
    store_type: Literal[STORE_TYPES]  # type: ignore[valid-type]
    time_zone: TimeZone | None = None


class Login(BaseModel):
    # Any username may be tried; the length caps what the throttle stores.
    username: _text(1, 64)
    password: _text(1, 128, strip=False)


class PasswordCheck(BaseModel):
    password: _text(1, 128, strip=False)


class StoreUpdate(BaseModel):
    password: Password | None = None
    time_zone: TimeZone | None = None

    @model_validator(mode="after")
    def _something_to_change(self):
        if self.password is None and self.time_zone is None:
            raise ValueError("send password (or time_zone) to change")
        return self


class UsernameQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: _text(1, 64)
