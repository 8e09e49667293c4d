"""Apply the Alembic migrations of one or more services: `python -m salesync_common.migrate [service ...]`.

Migrations are applied only by this explicit command (or the test harness), never at start-up.
"""
from __future__ import annotations

import importlib
import pathlib
import sys

import flask_migrate

from .settings import ConfigError, Settings

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent

# service name -> package that holds app/ and migrations/
SERVICE_PACKAGES = {
    "store": "store_service",
    "item": "item_service",
    "order": "order_service",
    "sale": "sale_service",
    "dashboard": "dashboard_service",
    "consulting": "consulting_service",
    "bff": "bff",
}


def services_with_migrations() -> list[str]:
    return [name for name, package in SERVICE_PACKAGES.items()
            if (REPO_ROOT / package / "migrations" / "env.py").exists()]


def upgrade(service: str, settings: Settings | None = None, revision: str = "head") -> None:
    package = SERVICE_PACKAGES[service]
    app_module = importlib.import_module(f"{package}.app")
    app = app_module.create_app(settings or Settings.from_env(service))
    with app.app_context():
        flask_migrate.upgrade(directory=str(REPO_ROOT / package / "migrations"), revision=revision)


def main(argv: list[str]) -> int:
    services = argv or services_with_migrations()
    unknown = [name for name in services if name not in SERVICE_PACKAGES]
    if unknown:
        print(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICE_PACKAGES)}", file=sys.stderr)
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
