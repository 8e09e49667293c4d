"""Request bodies of the dashboard. Cost bodies are checked for shape here; the item service,
which owns costs, checks the values (ranges, which items exist) and its answer is passed on."""
from __future__ import annotations

import datetime
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StrictInt

MAX_COST_LINES = 1000

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _whole_won(value):
    """A whole number of won: a JSON integer, an integral float (20.0) or a string of digits ("2000")."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a whole number of won")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number of won")
        value = int(value)
    elif isinstance(value, str):
        if not _DIGITS.fullmatch(value.strip()) or len(value.strip()) > 18:
            raise ValueError("must be a whole number of won")
        value = int(value.strip())
    elif not isinstance(value, int):
        raise ValueError("must be a whole number of won")
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _day(value):
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None


Won = Annotated[int, BeforeValidator(_whole_won)]
Day = Annotated[datetime.date, BeforeValidator(_day)]


class CostLine(BaseModel):
    item_id: Annotated[StrictInt, Field(gt=0)]
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
