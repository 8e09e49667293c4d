"""Field types for request bodies that several services accept the same way."""
from __future__ import annotations

import datetime
import re
from typing import Annotated

from pydantic import BeforeValidator

_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def whole_won(value) -> int:
    """An amount of won: a JSON integer, an integral float (20.0) or a string of digits ("2000").

    The POS sends prices typed into a text box as strings; an old load test sent floats.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a whole number of won")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number of won")
        value = int(value)
    elif isinstance(value, str):
        if not _DIGITS.fullmatch(value.strip()):
            raise ValueError("must be a whole number of won")
        value = int(value.strip())
    elif not isinstance(value, int):
        raise ValueError("must be a whole number of won")
    if value < 0:
        raise ValueError("must not be negative")
    return value


# Business days a store can have: the bounds keep "the day after" and time-zone shifts of any
# accepted day inside what Python and PostgreSQL can hold (9999-12-31 + 1 day overflows).
EARLIEST_DAY = datetime.date(1900, 1, 1)
LATEST_DAY = datetime.date(9998, 12, 31)


def iso_day(value) -> datetime.date:
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"must be a date from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}")
    return day


Won = Annotated[int, BeforeValidator(whole_won)]
IsoDay = Annotated[datetime.date, BeforeValidator(iso_day)]
