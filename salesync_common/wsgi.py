"""Build a service's WSGI app from the environment, turning a configuration error into one clear line."""
from __future__ import annotations

import sys
from collections.abc import Callable

from flask import Flask

from .settings import ConfigError, Settings

# gunicorn stops the master (no restart loop) when a worker exits with this code.
WORKER_BOOT_ERROR = 3


def build_app(create_app: Callable[[Settings], Flask], service: str) -> Flask:
    try:
        settings = Settings.from_env(service)
    except ConfigError as exc:
        print(f"salesync {service}: configuration error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(WORKER_BOOT_ERROR) from None
    return create_app(settings)
