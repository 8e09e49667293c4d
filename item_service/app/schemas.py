"""Request bodies and queries of the item service. Any store_id a client sends is ignored."""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from salesync_common.field_types import IsoDay, name_text, whole_won

from .models import MAX_CATEGORY_NAME, MAX_ITEM_NAME, MAX_WON

MAX_IDS = 200
MAX_ID_DIGITS = 18  # an id of up to 18 digits fits a 64-bit integer
MAX_COST_LINES = 1000

_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def _storable_won(value) -> int:
    value = whole_won(value)
    if value > MAX_WON:
        raise ValueError(f"must be between 0 and {MAX_WON:,} won")
    return value


Won = Annotated[int, BeforeValidator(_storable_won)]
Day = IsoDay
Id = Annotated[StrictInt, Field(gt=0)]


class CategoryForm(BaseModel):
    name: name_text(1, MAX_CATEGORY_NAME)


class ItemForm(BaseModel):
    name: name_text(1, MAX_ITEM_NAME)
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


def comma_separated_ids(value, *, limit: int = MAX_IDS) -> list[int]:
    """"1,2,3" as [1, 2, 3]: at most limit positive integers (ValueError otherwise)."""
    if not isinstance(value, str):
        raise ValueError("must be comma-separated item ids")
    parts = [part.strip() for part in value.split(",")]
    if len(parts) > limit:
        raise ValueError(f"may list at most {limit:,} ids")
    if not all(_DIGITS.fullmatch(part) and len(part) <= MAX_ID_DIGITS and int(part) > 0 for part in parts):
        raise ValueError("must be comma-separated positive integers")
    return [int(part) for part in parts]


class ItemIdsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    ids: Annotated[list[int], BeforeValidator(comma_separated_ids)]
