"""One JSON error shape for every 4xx and 5xx: {"result": "failed", "error": code, "message": text}.

Logic raises ApiError (or a subclass); the handlers registered here turn it, any
Werkzeug HTTP error and any unexpected exception into JSON. Nothing returns HTML or a traceback.
"""
from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    error = "bad_request"

    def __init__(self, message: str, *, status: int | None = None, error: str | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if error is not None:
            self.error = error
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict:
        return {"result": "failed", "error": self.error, "message": self.message, **self.extra}


class ValidationFailed(ApiError):
    status = 400
    error = "invalid_field"


class Unauthorized(ApiError):
    status = 401
    error = "unauthorized"


class Forbidden(ApiError):
    status = 403
    error = "forbidden"


class NotFound(ApiError):
    status = 404
    error = "not_found"


class Conflict(ApiError):
    status = 409
    error = "conflict"


class TooManyRequests(ApiError):
    status = 429
    error = "too_many_requests"


class UpstreamError(ApiError):
    """A call to another service failed; status is 502, 503 or 504."""
    status = 502
    error = "bad_gateway"


def error_response(status: int, error: str, message: str, headers: dict | None = None, **extra):
    response = jsonify({"result": "failed", "error": error, "message": message, **extra})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _snake(name: str) -> str:
    return name.lower().replace(" ", "_").replace("-", "_").replace("'", "")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.error, exc.message, exc.headers, **exc.extra)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        headers = {}
        if exc.code == HTTPStatus.METHOD_NOT_ALLOWED and exc.response is None:
            allowed = getattr(exc, "valid_methods", None)
            if allowed:
                headers["Allow"] = ", ".join(allowed)
        return error_response(exc.code or 500, _snake(exc.name), exc.description or exc.name, headers)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):
        # Flask's MAX_CONTENT_LENGTH: a Content-Length over it, or a chunked body read past it.
        limit = app.config.get("MAX_CONTENT_LENGTH")
        message = f"the request body is larger than {limit} bytes" if limit else "the request body is too large"
        return error_response(413, "request_entity_too_large", message)

    @app.errorhandler(DataError)
    def _data_error(exc: DataError):
        # A value the database cannot hold (a number out of range, say) slipped past validation.
        log.warning("value refused by the database: %s", exc.orig)
        return error_response(400, "value_out_of_range", "a value in the request is out of range")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error")
