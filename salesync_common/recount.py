"""`python -m salesync_common.recount [service ...] [--store ID ...]`: rebuild the day aggregates the reports
read (the order service's item days; the sale service's refund item days and revenue days) from the rows
they sum, store by store.

Run it once a rollout is complete after a release that adds or changes an aggregate: while the old pods
still served, their payments and refunds were stored but not counted (the migration's backfill ran
before them). Also after a store changes its time zone, or rows were repaired by hand. Each service lists
its recounts in `<service>/app/recount.py`, loaded by name as the purge loads its rules. A store's
business days are in its time zone from the store service's table when it shares the database, else in
Asia/Seoul, as the migrations' backfill does.
"""
from __future__ import annotations

import importlib
import logging
import pathlib
import sys
import zoneinfo

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from . import roster
from .request_log import configure_logging
from .settings import ConfigError, Settings

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_TIME_ZONE = "Asia/Seoul"
log = logging.getLogger("salesync.recount")  # not __name__: that is __main__ under -m


def services_with_recounts() -> list[str]:
    return [service.name for service in roster.SERVICES
            if (REPO_ROOT / service.package / "app" / "recount.py").exists()]


def zone_of(connection: Connection, store_id: int) -> zoneinfo.ZoneInfo:
    if connection.execute(text("SELECT to_regclass('store.stores') IS NOT NULL")).scalar():
        found = connection.execute(text("SELECT time_zone FROM store.stores WHERE store_id = :id"),
                                   {"id": store_id}).scalar()
        if found:
            return zoneinfo.ZoneInfo(found)
    return zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)


def recount_service(service: str, store_ids: list[int] | None = None, settings: Settings | None = None) -> int:
    """Recount every aggregate of one service for store_ids (every store with rows when None); returns how
    many stores were recounted."""
    module = importlib.import_module(f"{roster.BY_NAME[service].package}.app.recount")
    settings = settings or Settings.from_env(service)
    engine = create_engine(settings.database_url, poolclass=NullPool, connect_args={
        "application_name": f"salesync-recount-{service}", "connect_timeout": 5})
    try:
        with engine.connect() as connection:
            stores = store_ids if store_ids is not None else list(connection.execute(module.STORES).scalars())
            connection.commit()  # the list read: each store's recount below is a transaction of its own
            for store_id in stores:
                zone = zone_of(connection, store_id)
                for recount in module.RECOUNTS:
                    recount(session=connection, store_id=store_id, zone=zone)
                connection.commit()  # one store per transaction: a failure leaves the stores before it recounted
                log.info("recounted %s for store %s", service, store_id)
    finally:
        engine.dispose()
    return len(stores)


def parse(argv: list[str]) -> tuple[list[str], list[int] | None]:
    services, stores = [], None
    arguments = iter(argv)
    for argument in arguments:
        if argument == "--store":
            stores = [*(stores or []), int(next(arguments))]
        else:
            services.append(argument)
    return services or services_with_recounts(), stores


def main(argv: list[str]) -> int:
    try:
        services, stores = parse(argv)
    except (StopIteration, ValueError):
        print("usage: python -m salesync_common.recount [service ...] [--store ID ...]", file=sys.stderr)
        return 2
    unknown = [name for name in services if name not in services_with_recounts()]
    if unknown:
        print(f"nothing to recount in: {', '.join(unknown)}; services with aggregates: "
              f"{', '.join(services_with_recounts())}", file=sys.stderr)
        return 2
    try:
        configure_logging("recount", Settings.from_env("recount").log_level)
        for service in services:
            print(f"recounted {service}: {recount_service(service, stores)} stores", flush=True)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 78
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
