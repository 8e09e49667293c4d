"""The dashboard service: revenue and profit reports, item costs (kept by the item service), the settlement SMS,
and consulting results consumed from Kafka (dashboard_service.consumer)."""
from __future__ import annotations

from flask import Flask
from flask_migrate import Migrate

from salesync_common import Settings, init_service

from .models import db


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("dashboard")
    app = Flask(__name__)
    init_service(app, settings, db=db)
    Migrate(app, db)

    from .api import consulting, costs, reports, settlements
    app.register_blueprint(reports.bp)
    app.register_blueprint(costs.bp)
    app.register_blueprint(settlements.bp)
    app.register_blueprint(consulting.bp)
    return app
