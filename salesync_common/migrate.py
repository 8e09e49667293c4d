"""Apply the Alembic migrations of one or more services: `python -m salesync_common.migrate [service ...]`.

Migrations are applied only by this explicit command (or the test harness), never at start-up.
"""
from __future__ import annotations

import importlib
import pathlib
import sys

import flask_migrate

from . import roster
from .settings import ConfigError, Settings

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


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
    try:
        for service in services:
            upgrade(service)
            print(f"migrated {service}")
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 78
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
