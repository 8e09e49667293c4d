"""The dashboard service: revenue and profit reports, the settlement SMS, and consulting results consumed
from Kafka (dashboard_service.consumer)."""
from __future__ import annotations

import datetime

from flask import Flask
from flask_migrate import Migrate

from salesync_common import Settings, init_service
from salesync_common.service_auth import require_service_token

from .models import db
from .sms_quota import SmsLimits


def create_app(settings: Settings | None = None, *, sms_limits: SmsLimits | None = None) -> Flask:
    """sms_limits: the settlement SMS limits (default: SALESYNC_SMS_* from the environment)."""
    settings = settings or Settings.from_env("dashboard")
    app = Flask(__name__)
    init_service(app, settings, db=db)
    require_service_token(app)  # only Salesync services call it: the BFF, or another service
    Migrate(app, db)
    app.extensions["sms_limits"] = sms_limits or SmsLimits.from_env()

    from .api import consulting, reports, settlements
    app.register_blueprint(reports.bp)
    app.register_blueprint(settlements.bp)
    app.register_blueprint(consulting.bp)
    _feed_gauges(app)
    return app


def _feed_gauges(app: Flask) -> None:
    """The Kafka consumer's stored position and lag, what it has stored and what it dead-lettered (by reason),
    read when Prometheus scrapes (the consumer is a process without an HTTP server; its tables are the
    record), and the settlement SMS sent today against the daily limit."""
    from sqlalchemy import func, select

    from salesync_common.metrics import scrape_gauges

    from .consumer_lag import LogEnds, consumer_lag
    from .models import ConsultingResult, ConsumerPosition, DeadLetter
    from .sms_quota import sent_today

    def positions():
        rows = db.session.execute(select(ConsumerPosition.topic, ConsumerPosition.partition,
                                         ConsumerPosition.next_offset)).all()
        return [([topic, str(partition)], offset) for topic, partition, offset in rows]

    def received():
        count, newest = db.session.execute(select(
            func.count(), func.coalesce(func.extract("epoch", func.now() - func.max(ConsultingResult.received_at)), 0))
        ).one()
        return [(["results"], count), (["seconds_since_last"], float(newest))]

    def dead_letters(*, within: datetime.timedelta | None = None):
        query = select(DeadLetter.topic, DeadLetter.reason, func.count()).group_by(DeadLetter.topic, DeadLetter.reason)
        if within is not None:  # by the purge's index on dead_lettered_at
            query = query.where(DeadLetter.dead_lettered_at > func.now() - within)
        return [([topic, reason], count) for topic, reason, count in db.session.execute(query).all()]

    # The Kafka client that reads the log ends, closed with the app's broker by whoever owns both (tests).
    settings = app.extensions["salesync_settings"]
    log_ends = LogEnds(settings.kafka_bootstrap_servers, retry_seconds=settings.consumer_lag_retry_seconds)
    app.extensions["consumer_log_ends"] = log_ends

    def lag():
        return consumer_lag(session=db.session, ends=log_ends.read())

    def sms_today():
        return [(["sent"], sent_today(db.session)), (["limit"], app.extensions["sms_limits"].daily_limit)]

    gauges = scrape_gauges(app)
    gauges.add("salesync_consumer_position", "Next offset the dashboard consumer will read", ["topic", "partition"],
               positions)
    gauges.add("salesync_consumer_lag", "Records of the topic the dashboard consumer has not stored yet",
               ["topic", "partition"], lag)
    gauges.add("salesync_sms_today", "Settlement SMS sent this UTC day, and the deployment's daily limit", ["figure"],
               sms_today)
    gauges.add("salesync_consulting_feed", "Consulting results the dashboard has stored", ["figure"], received)
    gauges.add("salesync_consumer_dead_letters", "Records the dashboard consumer could not store and dead-lettered",
               ["topic", "reason"], dead_letters)
    # The alert's figure: the kept count above drops when the purge removes old letters, which can hide new
    # ones in a comparison with an hour ago; this one counts only the letters of the last hour.
    gauges.add("salesync_consumer_dead_letters_last_hour", "Records dead-lettered by the dashboard consumer in the "
               "last hour", ["topic", "reason"], lambda: dead_letters(within=datetime.timedelta(hours=1)))
