"""The dashboard's Kafka consumer, its own process: `python -m dashboard_service.consumer`.

SALESYNC_LIVENESS_FILE: touched while its loop goes round (see salesync_common.liveness)."""
from __future__ import annotations

import signal
import sys

from sqlalchemy.orm import sessionmaker

from salesync_common.liveness import Liveness
from salesync_common.wsgi import build_app

from .app import create_app
from .app.consulting_feed import ConsultingFeed
from .app.models import db


def main() -> int:
    app = build_app(create_app, "dashboard")
    with app.app_context():
        engine = db.engine
    feed = ConsultingFeed(session_factory=sessionmaker(engine, expire_on_commit=False),
                          bootstrap_servers=app.extensions["salesync_settings"].kafka_bootstrap_servers,
                          liveness=Liveness.from_env())
    signal.signal(signal.SIGTERM, lambda *_: feed.stop())
    signal.signal(signal.SIGINT, lambda *_: feed.stop())
    feed.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
