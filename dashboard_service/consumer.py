"""The dashboard's Kafka consumer, its own process: `python -m dashboard_service.consumer`.

SALESYNC_LIVENESS_FILE: touched while its loop goes round (see salesync_common.liveness).
DASHBOARD_DEAD_LETTER_MAX_BYTES: how much of a dead letter's raw key and value is kept, each (default 16384)."""
from __future__ import annotations

import os
import signal
import sys

from sqlalchemy.orm import sessionmaker

from salesync_common.liveness import Liveness
from salesync_common.settings import ConfigError, int_setting
from salesync_common.wsgi import WORKER_BOOT_ERROR, build_app

from .app import create_app
from .app.consulting_feed import DEFAULT_DEAD_LETTER_MAX_BYTES, ConsultingFeed
from .app.models import db


def main() -> int:
    app = build_app(create_app, "dashboard")
    try:
        dead_letter_max_bytes = dead_letter_limit(os.environ)
    except ConfigError as exc:
        print(f"salesync dashboard consumer: configuration error: {exc}", file=sys.stderr, flush=True)
        return WORKER_BOOT_ERROR
    with app.app_context():
        engine = db.engine
    feed = ConsultingFeed(session_factory=sessionmaker(engine, expire_on_commit=False),
                          bootstrap_servers=app.extensions["salesync_settings"].kafka_bootstrap_servers,
                          liveness=Liveness.from_env(), dead_letter_max_bytes=dead_letter_max_bytes)
    signal.signal(signal.SIGTERM, lambda *_: feed.stop())
    signal.signal(signal.SIGINT, lambda *_: feed.stop())
    feed.run()
    return 0


def dead_letter_limit(env) -> int:
    return int_setting(env, "DASHBOARD_DEAD_LETTER_MAX_BYTES", DEFAULT_DEAD_LETTER_MAX_BYTES, minimum=0)


if __name__ == "__main__":
    sys.exit(main())
