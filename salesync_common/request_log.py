"""Request ids and JSON log lines.

Every request gets an X-Request-ID (the caller's, when it sends a sane one); it is echoed
on the response, forwarded by the service client and written into every log line.
"""
from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


class JsonLogFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "request_id": current_request_id.get(),
            "message": record.getMessage(),
        }
        for key in ("method", "path", "status", "duration_ms", "store_id"):
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log line of the process to stderr as one JSON object."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter(service))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_salesync", False):
            root.removeHandler(existing)
    handler._salesync = True  # marks ours so a second app in one process does not log twice
    root.addHandler(handler)
    root.setLevel(level)
    # Werkzeug's own access log is plain text; ours below replaces it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


access_log = logging.getLogger("salesync.access")


def register_request_ids(app: Flask) -> None:
    @app.before_request
    def _take_request_id():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_REQUEST_ID.match(incoming) else new_request_id()
        g.request_id = request_id
        g.request_started = time.perf_counter()
        g.request_id_token = current_request_id.set(request_id)

    @app.after_request
    def _echo_request_id(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
            started = g.get("request_started", time.perf_counter())
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "store_id": g.get("store_id"),
                },
            )
        return response

    @app.teardown_request
    def _forget_request_id(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            try:
                current_request_id.reset(token)
            except ValueError:  # torn down in another context (test client); just clear it
                current_request_id.set(None)
