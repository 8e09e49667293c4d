"""GET /healthz (the process answers) and GET /readyz (its database answers too)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .database import database_is_reachable

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    return jsonify(status="ok", service=current_app.extensions["salesync_settings"].service)


@health.get("/readyz")
def readyz():
    settings = current_app.extensions["salesync_settings"]
    db = current_app.extensions.get("salesync_db")
    checks = {}
    if db is not None:
        checks["database"] = "ok" if database_is_reachable(db) else "unreachable"
    ready = all(state == "ok" for state in checks.values())
    body = {"status": "ok" if ready else "unavailable", "service": settings.service, "checks": checks}
    if not ready:
        body.update(result="failed", error="not_ready", message="a dependency is not reachable")
    return jsonify(body), 200 if ready else 503
