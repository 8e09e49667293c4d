"""Field types for request bodies that several services accept the same way."""
from __future__ import annotations

import datetime
import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints

# What a name may not hold: control characters (Cc), format characters (Cf: zero-width spaces and
# joiners, bidi overrides and isolates, the BOM), line and paragraph separators, and lone surrogates
# (JSON can carry them, UTF-8 and so PostgreSQL cannot).
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
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


def nfc(value):
    """Text in Unicode normal form C, so that a name typed decomposed ("카" as two jamo, "é" as e and an
    accent) is stored and compared as the same name composed; anything else is left to the type check."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def visible(value: str) -> str:
    for char in value:
        if unicodedata.category(char) in HIDDEN_CATEGORIES:
            named = f"U+{ord(char):04X} {unicodedata.name(char, '')}".strip()
            raise ValueError(f"must not contain control or invisible formatting characters ({named})")
    return value


def name_text(min_length: int, max_length: int, pattern: str | None = None):
    """A name people read (a store, an owner, a category, an item): NFC-normalised first, then trimmed
    and measured, and refused with 400 naming the field if it hides control or format characters."""
    # A BeforeValidator listed after the constraints runs before them.
    return Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=min_length,
                                            max_length=max_length, pattern=pattern),
                     BeforeValidator(nfc), AfterValidator(visible)]
