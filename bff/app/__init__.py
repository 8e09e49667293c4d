"""The BFF: the one public entry of Salesync. It forwards each path of the POS frontend to the
service that owns it, builds the cost page's nested view, and documents itself (no database)."""
from __future__ import annotations

from flask import Flask

from salesync_common import Settings, init_service

from .bulkheads import Bulkheads
from .cors import enable_cors
from .headers import add_security_headers
from .openapi import build_document
from .routes import ROUTES, documented_routes
from .sessions import PasswordChanges


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("bff")
    app = Flask(__name__, static_folder=None)
    init_service(app, settings)
    enable_cors(app, settings.cors_origins)
    add_security_headers(app)
    app.extensions["bff_password_changes"] = PasswordChanges(max_age=settings.session_check_seconds)
    app.extensions["bff_bulkheads"] = Bulkheads(settings.bulkhead_slots, wait_ms=settings.bulkhead_wait_ms)

    from .api import gateway
    app.register_blueprint(gateway.blueprint(ROUTES))
    app.extensions["bff_openapi"] = build_document(documented_routes())
    return app
