"""Apply the Alembic migrations of one or more services: `python -m salesync_common.migrate [service ...]`.

Migrations are applied only by this explicit command (or the test harness), never at start-up.
Progress and a failure are one plain line each; Alembic's own log lines are JSON, like every log line.

A schema at a revision this code does not know was migrated by a newer release: after a rollback the old
release's migration Job meets it. That is success with a warning, the schema left as it is, since every
migration works with the previous release's code (expand now, contract one release later: see README).
"""
from __future__ import annotations

import importlib
import logging
import os
import pathlib
import sys
from collections.abc import Mapping

import flask_migrate
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from . import roster
from .settings import ConfigError, Settings, int_setting

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
log = logging.getLogger("salesync.migrate")  # not __name__: that is __main__ under -m


def services_with_migrations() -> list[str]:
    return [service.name for service in roster.SERVICES
            if (REPO_ROOT / service.package / "migrations" / "env.py").exists()]


def upgrade(service: str, settings: Settings | None = None, revision: str = "head") -> list[str]:
    """Migrate the service's schema to `revision`; returns the revisions of a newer release the schema
    is at instead (then nothing is done), else []."""
    package = roster.BY_NAME[service].package
    app_module = importlib.import_module(f"{package}.app")
    app = app_module.create_app(settings or migration_settings(service))
    directory = REPO_ROOT / package / "migrations"
    with app.app_context():
        newer = revisions_unknown_here(app.extensions["migrate"].db, directory)
        if not newer:
            flask_migrate.upgrade(directory=str(directory), revision=revision)
    return newer


def migration_settings(service: str, env: Mapping[str, str] = os.environ) -> Settings:
    """The service's settings, but a statement may run for minutes: a backfill or an index over a year of rows
    must not stop at the 5 s a request gets (the lock timeout stays short, so a migration never queues the POS
    behind its lock for long)."""
    limit = int_setting(env, "SALESYNC_MIGRATION_STATEMENT_TIMEOUT_MS", 10 * 60 * 1000, minimum=1)
    return Settings.from_env(service, env, db_statement_timeout_ms=limit)


def revisions_unknown_here(db, directory: pathlib.Path) -> list[str]:
    """The schema's current revisions that none of this code's migrations is (a newer release's)."""
    scripts = ScriptDirectory(str(directory))
    with db.engine.connect() as connection:
        current = MigrationContext.configure(
            connection, opts={"version_table_schema": db.metadata.schema}).get_current_heads()
    unknown = []
    for revision in current:
        try:
            scripts.get_revision(revision)
        except CommandError:  # "Can't locate revision identified by ..."
            unknown.append(revision)
    return unknown


def main(argv: list[str]) -> int:
    services = argv or services_with_migrations()
    unknown = [name for name in services if name not in roster.BY_NAME]
    if unknown:
        print(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(roster.BY_NAME)}", file=sys.stderr)
        return 2
    for service in services:
        try:
            newer = upgrade(service)
        except ConfigError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            return 78
        except Exception as exc:
            # One line for whoever watches the terminal; the traceback goes to the log.
            log.exception("migrating %s failed", service)
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"could not migrate {service}: {reason}", file=sys.stderr)
            return 1
        if newer:
            log.warning("%s is at revision %s, which this release does not know; left as it is",
                        service, ", ".join(newer))
            print(f"warning: {service}'s schema is at revision {', '.join(newer)}, newer than this release knows "
                  f"(a rollback?); left as it is, since each migration works with the previous release's code",
                  file=sys.stderr)
            continue
        print(f"migrated {service}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
