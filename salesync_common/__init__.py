"""Code every Salesync service shares: settings, database, tokens, errors, request ids, health, service client.

Imported lazily: `python -m salesync_common.liveness` (a probe every 30 s) and gunicorn's config
module load this package without needing Flask or SQLAlchemy.
"""
from __future__ import annotations

__all__ = ["init_service", "Settings", "ConfigError"]


def __getattr__(name: str):
    if name == "init_service":
        from .service_defaults import init_service

        return init_service
    if name in ("Settings", "ConfigError"):
        from . import settings

        return getattr(settings, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
