"""Request bodies and queries of the item service. Any store_id a client sends is ignored."""
from __future__ import annotations

import datetime
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StringConstraints

from .models import MAX_CATEGORY_NAME, MAX_ITEM_NAME, MAX_WON

MAX_IDS = 200
MAX_COST_LINES = 1000

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# Control characters, and lone surrogates that JSON can carry but UTF-8 (and so PostgreSQL) cannot.
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def _whole_won(value):
    """An amount of won: a JSON integer, an integral float (20.0) or a string of digits ("2000")."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a whole number of won")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number of won")
        value = int(value)
    elif isinstance(value, str):
        digits = value.strip()
        if not _DIGITS.fullmatch(digits):
            raise ValueError("must be a whole number of won")
        value = int(digits) if len(digits) <= 12 else MAX_WON + 1
    elif not isinstance(value, int):
        raise ValueError("must be a whole number of won")
    if not 0 <= value <= MAX_WON:
        raise ValueError(f"must be between 0 and {MAX_WON:,} won")
    return value


def _printable(value: str) -> str:
    if _UNSTORABLE.search(value):
        raise ValueError("must be plain text without control characters")
    return value


def _day(value):
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None


def _name(max_length: int):
    return Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=max_length),
                     AfterValidator(_printable)]


Won = Annotated[int, BeforeValidator(_whole_won)]
Day = Annotated[datetime.date, BeforeValidator(_day)]
Id = Annotated[StrictInt, Field(gt=0)]


class CategoryForm(BaseModel):
    name: _name(MAX_CATEGORY_NAME)


class ItemForm(BaseModel):
    name: _name(MAX_ITEM_NAME)
    price: Won


class ItemUpdate(ItemForm):
    # Moves the item to another of the store's categories; absent or null keeps it where it is.
    category_id: Id | None = None


class CostLine(BaseModel):
    item_id: Id
    # null leaves the item's cost as it is (the cost page sends every item, touched or not).
    cost: Won | None


def _each_item_once(lines: list[CostLine]) -> list[CostLine]:
    ids = [line.item_id for line in lines]
    if len(set(ids)) != len(ids):
        raise ValueError("each item_id may appear only once")
    return lines


class CostsForm(BaseModel):
    items: Annotated[list[CostLine], Field(max_length=MAX_COST_LINES), AfterValidator(_each_item_once)]
    effective_date: Day | None = None


class CostForm(BaseModel):
    cost: Won
    effective_date: Day | None = None


def _comma_separated_ids(value):
    if not isinstance(value, str):
        raise ValueError("must be comma-separated item ids")
    parts = [part.strip() for part in value.split(",")]
    if len(parts) > MAX_IDS:
        raise ValueError(f"may list at most {MAX_IDS} ids")
    if not all(_DIGITS.fullmatch(part) and len(part) <= 18 and int(part) > 0 for part in parts):
        raise ValueError("must be comma-separated positive integers")
    return [int(part) for part in parts]


class ItemIdsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    ids: Annotated[list[int], BeforeValidator(_comma_separated_ids)]
