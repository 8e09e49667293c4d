"""Runs payments.reconcile_pending in the background of every sale service process."""
from __future__ import annotations

import logging
import threading

from flask import Flask

from . import payments
from .models import db

log = logging.getLogger(__name__)


def start_reconciler(app: Flask, interval_seconds: float) -> threading.Thread:
    settings = app.extensions["salesync_settings"]
    client = app.extensions["salesync_client"]
    stop = threading.Event()

    def loop():
        while not stop.wait(interval_seconds):
            try:
                with app.app_context():
                    outcome = payments.reconcile_pending(session=db.session, client=client,
                                                         jwt_secret=settings.jwt_secret)
                    if any(outcome.values()):
                        log.info("reconciled pending sales: %s", outcome)
                    db.session.remove()
            except Exception:
                log.exception("reconciling pending sales failed; will try again")

    thread = threading.Thread(target=loop, name="sale-reconciler", daemon=True)
    thread.stop = stop
    thread.start()
    return thread
