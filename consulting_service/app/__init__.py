"""The consulting service: advice over a period of the store's sales (figures.py, advice.py), worked out by a
separate worker process and published to the Kafka topic `consulting` (API.md §7, Decision 6)."""
from __future__ import annotations

from flask import Flask
from flask_migrate import Migrate

from salesync_common import Settings, init_service
from salesync_common.service_auth import require_service_token

from .models import db


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("consulting")
    app = Flask(__name__)
    init_service(app, settings, db=db)
    require_service_token(app)  # only Salesync services call it: the BFF, or another service
    Migrate(app, db)

    from .api import consulting
    app.register_blueprint(consulting.bp)
    _backlog_gauges(app)
    return app


def _backlog_gauges(app: Flask) -> None:
    """The consulting backlog, read from the database when Prometheus scrapes."""
    from sqlalchemy import func, select

    from salesync_common.metrics import scrape_gauges, waiting_figures

    from .models import ConsultingJob, OutboxMessage

    def outbox():
        return waiting_figures(db.session, OutboxMessage.created_at, OutboxMessage.sent_at.is_(None),
                               count_label="pending")

    def jobs():
        rows = db.session.execute(select(ConsultingJob.status, func.count()).group_by(ConsultingJob.status)).all()
        return [([status], count) for status, count in rows]

    gauges = scrape_gauges(app)
    gauges.add("salesync_outbox", "Consulting results not yet acknowledged by Kafka", ["figure"], outbox)
    gauges.add("salesync_consulting_jobs", "Consulting jobs by state", ["status"], jobs)
