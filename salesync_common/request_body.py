"""Parse and validate request bodies and query strings with pydantic models.

Every failure is a 4xx naming the problem: 415 for a body that is not JSON, 400 for
malformed JSON, a body that is not an object, or the first field that breaks its model.
"""
from __future__ import annotations

import json
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from .errors import ApiError, ValidationFailed

Model = TypeVar("Model", bound=BaseModel)


def json_object() -> dict:
    if request.mimetype != "application/json":
        raise ApiError("send the body as JSON with Content-Type: application/json",
                       status=415, error="unsupported_media_type")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError("the request body is empty", error="empty_body")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("the request body is not valid JSON", error="malformed_json") from None
    if not isinstance(data, dict):
        raise ApiError("the request body must be a JSON object", error="malformed_json")
    return data


def parse_body(model: type[Model]) -> Model:
    return _validate(model, json_object())


def parse_query(model: type[Model]) -> Model:
    return _validate(model, request.args.to_dict())


def _nul_field(value, path: str = "") -> str | None:
    """The first field holding a NUL character (PostgreSQL cannot store one in text)."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, inner in items:
        if isinstance(key, str) and "\x00" in key:
            return f"{path}.{key}".strip(".") or "body"
        found = _nul_field(inner, f"{path}.{key}".strip("."))
        if found:
            return found
    return None


def _validate(model: type[Model], data: dict) -> Model:
    nul_field = _nul_field(data)
    if nul_field:
        raise ValidationFailed(f"{nul_field} must not contain a NUL character", field=nul_field)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        if first["type"] == "missing":
            raise ValidationFailed(f"{field} is required", error="missing_field", field=field) from None
        reason = first["msg"]
        if reason.startswith("Value error, "):
            reason = reason[len("Value error, "):]
        raise ValidationFailed(f"{field}: {reason}", field=field) from None
