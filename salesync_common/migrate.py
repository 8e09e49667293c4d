"""Apply the Alembic migrations of one or more services: `python -m salesync_common.migrate [service ...]`.

Migrations are applied only by this explicit command (or the test harness), never at start-up.
Progress and a failure are one plain line each; Alembic's own log lines are JSON, like every log line.
"""
from __future__ import annotations

import importlib
import logging
import pathlib
import sys

import flask_migrate

from . import roster
from .settings import ConfigError, Settings

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
log = logging.getLogger("salesync.migrate")  # not __name__: that is __main__ under -m


def services_with_migrations() -> list[str]:
    return [service.name for service in roster.SERVICES
            if (REPO_ROOT / service.package / "migrations" / "env.py").exists()]


def upgrade(service: str, settings: Settings | None = None, revision: str = "head") -> None:
    package = roster.BY_NAME[service].package
    app_module = importlib.import_module(f"{package}.app")
    app = app_module.create_app(settings or Settings.from_env(service))
    with app.app_context():
        flask_migrate.upgrade(directory=str(REPO_ROOT / package / "migrations"), revision=revision)


def main(argv: list[str]) -> int:
    services = argv or services_with_migrations()
    unknown = [name for name in services if name not in roster.BY_NAME]
    if unknown:
        print(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(roster.BY_NAME)}", file=sys.stderr)
        return 2
    for service in services:
        try:
            upgrade(service)
        except ConfigError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            return 78
        except Exception as exc:
            # One line for whoever watches the terminal; the traceback goes to the log.
            log.exception("migrating %s failed", service)
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"could not migrate {service}: {reason}", file=sys.stderr)
            return 1
        print(f"migrated {service}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
