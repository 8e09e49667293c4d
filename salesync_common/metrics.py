"""Prometheus metrics at GET /metrics on every service, written once here.

Every request is counted and timed by route template (not by raw path, so ids do not
explode the series) and status; requests in flight and the database pool are gauges.
Services add their own figures: counters where the event happens (payments, model
calls) and gauges read at scrape time (outbox backlog, consumer position).

Series are per process. gunicorn runs several workers: set PROMETHEUS_MULTIPROC_DIR to a
shared empty directory to aggregate them (prometheus_client's multiprocess mode), and run
gunicorn with salesync_common.gunicorn_config so that a dead worker's gauges are dropped.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
# Summed over the live workers; a dead worker's share is dropped by gunicorn_config.child_exit.
IN_FLIGHT = Gauge("http_requests_in_flight", "HTTP requests being answered", ["service"],
                  multiprocess_mode="livesum")

# Domain counters, incremented where the event happens.
PAYMENTS = Counter("salesync_payments_total", "Completed payments", ["method"])
MODEL_CALLS = Counter("salesync_model_calls_total", "Calls to the consulting model", ["outcome"])

metrics_blueprint = Blueprint("metrics", __name__)


class ScrapeTimeGauges:
    """Gauges computed when Prometheus scrapes, inside the app (for figures that live in the database)."""

    def __init__(self, app: Flask):
        self.app = app
        self.readers: list[tuple[str, str, list[str], Callable[[], Iterable[tuple[list[str], float]]]]] = []

    def add(self, name: str, documentation: str, labels: list[str],
            read: Callable[[], Iterable[tuple[list[str], float]]]) -> None:
        self.readers.append((name, documentation, labels, read))

    def collect(self):
        for name, documentation, labels, read in self.readers:
            family = GaugeMetricFamily(name, documentation, labels=labels)
            try:
                with self.app.app_context():
                    for label_values, value in read():
                        family.add_metric(label_values, value)
            except Exception:
                continue  # a failing reader must not break the whole scrape
            yield family


def init_metrics(app: Flask, service: str) -> ScrapeTimeGauges:
    gauges = ScrapeTimeGauges(app)
    # This app's scrape-time gauges apart from the process-wide counters (tests run several apps).
    app_registry = CollectorRegistry()
    app_registry.register(gauges)
    app.extensions["salesync_metrics"] = gauges
    app.extensions["salesync_metrics_registry"] = app_registry

    db = app.extensions.get("salesync_db")
    if db is not None:
        def pool():
            engine = db.engine
            return [(["checked_out"], engine.pool.checkedout()), (["idle"], engine.pool.checkedin())]
        gauges.add("db_pool_connections", "Database connections of this process", ["state"], pool)

    in_flight = IN_FLIGHT.labels(service)

    @app.before_request
    def _start():
        g.metrics_started = time.perf_counter()
        in_flight.inc()

    @app.teardown_request
    def _finish(_exc):
        if g.pop("metrics_started", None) is not None:
            in_flight.dec()

    @app.after_request
    def _observe(response):
        started = g.get("metrics_started")
        if started is not None and request.endpoint != "metrics.metrics":
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            _series(REQUESTS, service, request.method, route, str(response.status_code)).inc()
            _series(LATENCY, service, request.method, route).observe(time.perf_counter() - started)
        return response

    app.register_blueprint(metrics_blueprint)
    return gauges


# labels() checks and locks on every call; the series of a (service, method, route template, status) are
# few and fixed, so each is looked up once per process.
_SERIES: dict[tuple, object] = {}


def _series(metric, *labels: str):
    key = (metric, *labels)
    series = _SERIES.get(key)
    if series is None:
        series = _SERIES[key] = metric.labels(*labels)
    return series


@metrics_blueprint.get("/metrics")
def metrics():
    process_wide = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_wide = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_wide)
    body = generate_latest(process_wide) + generate_latest(current_app.extensions["salesync_metrics_registry"])
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def waiting_figures(session, created_at, condition, *, count_label: str = "count") -> list[tuple[list[str], float]]:
    """For a scrape-time gauge of rows that wait (an outbox, pending sales): how many, and how old the
    oldest is in seconds (0 when none waits), by the database's clock."""
    oldest_age = func.extract("epoch", func.now() - func.min(created_at))
    count, oldest = session.execute(select(func.count(), func.coalesce(oldest_age, 0)).where(condition)).one()
    return [([count_label], count), (["oldest_age_seconds"], float(oldest))]


def scrape_gauges(app: Flask) -> ScrapeTimeGauges:
    return app.extensions["salesync_metrics"]
