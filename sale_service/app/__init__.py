"""The sale service: payments (cash/card), refunds, revenue by day and period."""
from __future__ import annotations

import os

from flask import Flask
from flask_migrate import Migrate

from salesync_common import Settings, init_service
from salesync_common.service_auth import require_service_token

from .models import db


def create_app(settings: Settings | None = None, *, reconcile_every: float | None = None) -> Flask:
    """reconcile_every: seconds between passes of the pending-sale reconciler (0 turns it off)."""
    settings = settings or Settings.from_env("sale")
    app = Flask(__name__)
    init_service(app, settings, db=db)
    require_service_token(app)  # only Salesync services call it: the BFF, or another service
    Migrate(app, db)

    from .api import internal, sales
    app.register_blueprint(sales.bp)
    app.register_blueprint(internal.bp)
    _pending_gauge(app)

    if reconcile_every is None:
        reconcile_every = float(os.environ.get("SALESYNC_RECONCILE_SECONDS", "15"))
    if reconcile_every > 0:
        from .reconciler import start_reconciler
        start_reconciler(app, reconcile_every)
    return app


def _pending_gauge(app: Flask) -> None:
    """Sales a payment left pending (the card step not finished, or the order not yet marked paid): how
    many, and how old the oldest is, read from the database when Prometheus scrapes. The reconciler
    settles them within a few passes; an old one means it cannot (the order service unreachable)."""
    from salesync_common.metrics import scrape_gauges, waiting_figures

    from .models import PENDING, Sale

    def pending():
        return waiting_figures(db.session, Sale.created_at, Sale.status == PENDING)

    scrape_gauges(app).add("salesync_sales_pending", "Sales not yet completed or failed", ["figure"], pending)
