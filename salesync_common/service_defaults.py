"""What every Salesync service gets from one call: the operational defaults live here once."""
from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_sqlalchemy import SQLAlchemy

from .database import configure_database
from .deadlines import reset_per_request
from .errors import NotFound, register_error_handlers
from .health import health
from .metrics import init_metrics
from .request_body import check_json_body
from .request_log import configure_logging, register_request_ids
from .service_client import ServiceClient
from .settings import Settings
from .verified_tokens import VERIFIED


def refuse_empty_path_segments() -> None:
    """The server decodes %2F before routing, so "/consulting/%2F" arrives as "/consulting//"; Werkzeug
    would redirect that to, or serve it as, another route (a new consulting job). No route has an
    empty segment: 404."""
    if "//" in request.path:
        raise NotFound("no such path", error="not_found")


class NoCookieSessions(SecureCookieSessionInterface):
    """No route keeps state in Flask's cookie session (a store's token says who it is), but with a
    SECRET_KEY Flask would still build a signing serializer to look for the cookie on every request and
    save it after: a sixth of the framework's CPU for a small read. Every request gets Flask's null
    session instead, which refuses to be written to."""

    def open_session(self, app: Flask, request):
        return None  # Flask then uses make_null_session(app)


def check_views_once(app: Flask) -> None:
    """Flask asks inspect whether each hook and view is a coroutine function on every request (nine times for
    a small read here); a function's answer never changes, so each is asked once per process."""
    checked: dict = {}
    ensure_sync = app.ensure_sync

    def ensure_sync_once(func):
        runnable = checked.get(func)
        if runnable is None:
            runnable = checked[func] = ensure_sync(func)
        return runnable

    app.ensure_sync = ensure_sync_once


def init_service(app: Flask, settings: Settings, *, db: SQLAlchemy | None = None) -> None:
    """Settings, JSON logs with request ids, JSON errors, health routes, the database and the service client."""
    app.extensions["salesync_settings"] = settings
    app.config["SECRET_KEY"] = settings.jwt_secret
    app.session_interface = NoCookieSessions()
    check_views_once(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    VERIFIED.max_entries = settings.verified_tokens_kept
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    # A browser never follows a 308 on a POST preflight; serve /stores and /stores/ alike instead.
    app.url_map.strict_slashes = False
    app.before_request(refuse_empty_path_segments)
    reset_per_request(app)  # the BFF sets each request's deadline; a service takes its caller's (service_auth)
    configure_logging(settings.service, settings.log_level)
    register_request_ids(app)
    register_error_handlers(app)
    app.register_blueprint(health)
    if db is not None:
        configure_database(app, db, settings)
    app.extensions["salesync_client"] = ServiceClient(settings)
    init_metrics(app, settings.service)
    # After the request id and metrics hooks, so a refused body is logged and counted like any answer.
    app.before_request(check_json_body)
