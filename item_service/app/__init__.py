"""The item service: categories, menu items and their cost history."""
from __future__ import annotations

from flask import Flask
from flask_migrate import Migrate

from salesync_common import Settings, init_service
from salesync_common.service_auth import require_service_token

from .models import db


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("item")
    app = Flask(__name__)
    init_service(app, settings, db=db)
    require_service_token(app)  # only Salesync services call it: the BFF, or another service
    Migrate(app, db)

    from .api import categories, costs, internal, items
    app.register_blueprint(categories.bp)
    app.register_blueprint(items.bp)
    app.register_blueprint(costs.bp)
    app.register_blueprint(internal.bp)
    return app
