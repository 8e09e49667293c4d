"""CORS for the browser, on every answer (errors and unknown paths too), and every preflight a 204.

The origins come from the setting SALESYNC_CORS_ORIGINS (comma-separated; `*`, any origin, when unset,
for local use). A request from an origin not listed gets no Access-Control-Allow-Origin, so the browser
keeps the answer from the page that asked.
"""
from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

ALLOWED_METHODS = ["GET", "POST", "PUT", "DELETE", "OPTIONS"]
ALLOWED_HEADERS = ["authorization", "content-type", "x-csrf-token", "idempotency-key", "x-request-id"]
EXPOSED_HEADERS = ["X-Request-ID", "Idempotent-Replayed", "Retry-After"]
PREFLIGHT_MAX_AGE = 600


def enable_cors(app: Flask, origins: tuple[str, ...] = ("*",)) -> None:
    @app.before_request
    def _answer_preflight():
        # Flask would answer OPTIONS only on known paths (404 elsewhere); a preflight never reaches a view.
        if request.method == "OPTIONS":
            response = Response(status=204)
            del response.headers["Content-Type"]
            return response

    wildcard = origins == ("*",)
    if not wildcard:
        @app.after_request
        def _vary_by_origin(response: Response) -> Response:
            # The answer differs by Origin (allowed or not): a cache must keep them apart.
            response.vary.add("Origin")
            return response

    # flask-cors adds the headers in an after_request hook and on the exception handlers' answers. Listed
    # origins are matched exactly (none holds a regex character: settings.py checks their form), and
    # only on a request that names its Origin.
    CORS(app, origins="*" if wildcard else list(origins), send_wildcard=wildcard, always_send=wildcard,
         methods=ALLOWED_METHODS, allow_headers=ALLOWED_HEADERS, expose_headers=EXPOSED_HEADERS,
         max_age=PREFLIGHT_MAX_AGE, vary_header=False)
