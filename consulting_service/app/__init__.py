"""The consulting service: promotion advice over a period of sales, worked out by a separate worker
process and published to the Kafka topic `consulting` (API.md §7, Decision 6)."""
from __future__ import annotations

from flask import Flask
from flask_migrate import Migrate

from salesync_common import Settings, init_service

from .models import db


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("consulting")
    app = Flask(__name__)
    init_service(app, settings, db=db)
    Migrate(app, db)

    from .api import consulting
    app.register_blueprint(consulting.bp)
    return app
