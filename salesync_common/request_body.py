"""Parse and validate request bodies and query strings with pydantic models.

Every failure is a 4xx naming the problem: 415 for a body that is not JSON, 400 for
malformed JSON, JSON nested deeper than the setting max_json_depth (SALESYNC_MAX_JSON_DEPTH, 32),
a body that is not an object, or the first field that breaks its model. A body larger than
max_body_bytes is a 413 (Flask's MAX_CONTENT_LENGTH, set by init_service).
"""
from __future__ import annotations

import json
import math
import re
from typing import TypeVar

from flask import current_app, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import ApiError, ValidationFailed

Model = TypeVar("Model", bound=BaseModel)

# The rest of a JSON string after its opening quote, escapes included, up to its closing quote.
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in a JSON text, counted without parsing it (and without recursion).

    Strings are skipped as a parser reads them, so where the text is not JSON the count is at least
    what a parser would reach before it fails (it stops at an unterminated string, and so does this).
    Linear in the length: each character is looked at a bounded number of times.
    """
    depth = deepest = position = 0
    while position < len(text):
        quote = text.find('"', position)
        outside = text[position:] if quote < 0 else text[position:quote]
        for bracket in _NOT_A_BRACKET.sub("", outside):
            depth += 1 if bracket in "[{" else -1
            deepest = max(deepest, depth)
        string = _STRING_REST.match(text, quote + 1) if quote >= 0 else None
        if string is None:
            break
        position = string.end()
    return deepest


def refuse_deep_json(text: str) -> None:
    """400 for JSON nested deeper than the setting, before any parser recurses into it (Python's own
    stops with a RecursionError, and pydantic and the idempotency fingerprint recurse too)."""
    limit = current_app.extensions["salesync_settings"].max_json_depth
    if nesting_depth(text) > limit:
        raise ApiError(f"the JSON body is nested deeper than {limit} levels", error="json_too_deep")


def check_json_body() -> None:
    """before_request (init_service): every JSON body of every route, whoever parses it later."""
    # A request with neither Content-Length nor Transfer-Encoding has no body (a GET sent with a JSON
    # Content-Type, as some clients do): nothing to read. (wsgi.input_terminated cannot tell a body:
    # gunicorn sets it on every request. A server that frames bodies without either header, as HTTP/2
    # may, would need this changed; gunicorn speaks HTTP/1.1 here.)
    if request.is_json and (request.content_length or "Transfer-Encoding" in request.headers):
        text = _body_text()
        if text is not None:
            refuse_deep_json(text)


def _body_text() -> str | None:
    """The body as text, decoded as json.loads decodes bytes (UTF-8, -16 or -32); None if it cannot be.
    Reading it answers 413 past MAX_CONTENT_LENGTH, with or without a Content-Length."""
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    # Werkzeug stops reading a body without Content-Length (chunked) at the limit, silently, and would
    # hand on its first 64 KB; one more byte from the server's own stream tells a longer body from one
    # of exactly the limit.
    if request.content_length is None and limit is not None and len(raw) >= limit \
            and request.input_stream.read(1):
        raise RequestEntityTooLarge()
    try:
        return raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError:
        return None


def json_object() -> dict:
    if request.mimetype != "application/json":
        raise ApiError("send the body as JSON with Content-Type: application/json",
                       status=415, error="unsupported_media_type")
    text = _body_text()
    if text is None:
        raise ApiError("the request body is not valid JSON", error="malformed_json")
    if not text.strip():
        raise ApiError("the request body is empty", error="empty_body")
    refuse_deep_json(text)
    try:
        data = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except ValueError:
        raise ApiError("the request body is not valid JSON", error="malformed_json") from None
    if not isinstance(data, dict):
        raise ApiError("the request body must be a JSON object", error="malformed_json")
    return data


def _not_json(constant: str):
    # Python reads NaN and Infinity, which JSON lacks; passed on, no other parser (nor the BFF's own
    # request to the owning service) would take them back.
    raise ValueError(f"{constant} is not JSON")


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):  # 1e400
        raise ValueError(f"{number} is out of range")
    return value


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
