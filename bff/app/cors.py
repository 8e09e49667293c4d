"""CORS for the browser: any origin, on every answer (errors and unknown paths too), and every preflight a 204."""
from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

ALLOWED_METHODS = ["GET", "POST", "PUT", "DELETE", "OPTIONS"]
ALLOWED_HEADERS = ["authorization", "content-type", "x-csrf-token", "idempotency-key", "x-request-id"]
EXPOSED_HEADERS = ["X-Request-ID", "Idempotent-Replayed", "Retry-After"]
PREFLIGHT_MAX_AGE = 600


def enable_cors(app: Flask) -> None:
    @app.before_request
    def _answer_preflight():
        # Flask would answer OPTIONS only on known paths (404 elsewhere); a preflight never reaches a view.
        if request.method == "OPTIONS":
            response = Response(status=204)
            del response.headers["Content-Type"]
            return response

    # flask-cors adds the headers in an after_request hook and on the exception handlers' answers.
    CORS(app, origins="*", send_wildcard=True, methods=ALLOWED_METHODS, allow_headers=ALLOWED_HEADERS,
         expose_headers=EXPOSED_HEADERS, max_age=PREFLIGHT_MAX_AGE, vary_header=False)
