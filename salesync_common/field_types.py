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


# Characters that draw nothing although they are not Cc/Cf, so a name holding one looks like a name without
# it ("피자\u3164" beside "피자") or like no name at all: Unicode's Default_Ignorable_Code_Point property
# (DerivedCoreProperties.txt; Python's unicodedata does not expose it), plus U+2800 BRAILLE PATTERN BLANK,
# which is a symbol (So) but shows as a blank. Many of these are Cf and refused by category already; the
# table keeps the whole list so the rule does not depend on which category a version of Unicode gives them.
# Inclusive ranges, sorted.
IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),    # SOFT HYPHEN
    (0x034F, 0x034F),    # COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),    # ARABIC LETTER MARK
    (0x115F, 0x1160),    # HANGUL CHOSEONG FILLER, HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),    # KHMER VOWEL INHERENT AQ, AA
    (0x180B, 0x180F),    # MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR
    (0x200B, 0x200F),    # ZERO WIDTH SPACE .. RIGHT-TO-LEFT MARK
    (0x202A, 0x202E),    # bidi embeddings and overrides
    (0x2060, 0x206F),    # WORD JOINER, invisible operators, bidi isolates, deprecated format characters
    (0x2800, 0x2800),    # BRAILLE PATTERN BLANK (not Default_Ignorable, but as blank)
    (0x3164, 0x3164),    # HANGUL FILLER
    (0xFE00, 0xFE0F),    # VARIATION SELECTOR-1 .. 16
    (0xFEFF, 0xFEFF),    # ZERO WIDTH NO-BREAK SPACE (BOM)
    (0xFFA0, 0xFFA0),    # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),    # unassigned specials
    (0x1BCA0, 0x1BCA3),  # SHORTHAND FORMAT controls
    (0x1D173, 0x1D17A),  # MUSICAL SYMBOL BEGIN/END BEAM, TIE, SLUR, PHRASE
    (0xE0000, 0xE0FFF),  # TAGS, VARIATION SELECTOR-17 .. 256, and the rest of the plane's block
)


def ignorable(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in IGNORABLE_RANGES)


def hidden(char: str) -> bool:
    return unicodedata.category(char) in HIDDEN_CATEGORIES or ignorable(char)


def shows_something(value):
    """A name typed as only white space and invisible characters ("\u3164", " \u200b ") is refused as
    such, before trimming would make it an empty name; an empty name is left to the length check."""
    if isinstance(value, str) and value and all(char.isspace() or hidden(char) for char in value):
        raise ValueError("must contain a visible character")
    return value


def visible(value: str) -> str:
    for char in value:
        if hidden(char):
            named = f"U+{ord(char):04X} {unicodedata.name(char, '')}".strip()
            raise ValueError(f"must not contain control or invisible formatting characters ({named})")
    return value


def name_text(min_length: int, max_length: int, pattern: str | None = None):
    """A name people read (a store, an owner, a category, an item): NFC-normalised first, then trimmed
    and measured, and refused with 400 naming the field if it hides control, format or default-ignorable
    characters, or (once trimmed) shows none."""
    # A BeforeValidator listed after the constraints runs before them, and the last listed runs first:
    # NFC, then "shows something", then trimming and the constraints, then the character check.
    return Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=min_length,
                                            max_length=max_length, pattern=pattern),
                     BeforeValidator(shows_something), BeforeValidator(nfc), AfterValidator(visible)]
