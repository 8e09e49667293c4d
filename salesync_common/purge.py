"""Delete the rows nobody needs any more: `python -m salesync_common.purge [service ...]`.

Run by the purge CronJob (k8s/base/purge) and by `make run` (at start, then every
SALESYNC_PURGE_INTERVAL seconds). Each service names what it purges in `<package>/app/purge.py`:
a `purges(settings)` function returning Purge rules (idempotency keys, throttle rows past their
window, the delivered outbox, dead letters, finished consulting jobs). Orders, sales, refunds and
settlements have no rule, so they are never purged.

Rows go in batches of SALESYNC_PURGE_BATCH_SIZE, each its own short transaction that skips rows a
request holds (FOR UPDATE SKIP LOCKED): the purge never waits for the POS, and the POS waits for
the purge at most one batch. One plain line per table says how many rows went.
"""
from __future__ import annotations

import dataclasses
import importlib
import logging
import pathlib
import sys
from collections.abc import Callable

from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    Table,
    create_engine,
    delete,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.pool import NullPool

from . import roster
from .request_log import configure_logging
from .settings import ConfigError, Settings

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
log = logging.getLogger("salesync.purge")  # not __name__: that is __main__ under -m

# A batch waiting this long for a lock (a row it did not skip, e.g. a key a request is inserting) gives
# up; the rows stay for the next run. A batch is an index range scan of at most one batch of rows.
BATCH_LOCK_TIMEOUT_MS = 2000
BATCH_STATEMENT_TIMEOUT_MS = 30000


@dataclasses.dataclass(frozen=True)
class Purge:
    """The rows of `table` that `condition` picks go; an index should serve the condition."""
    table: Table
    condition: ColumnElement[bool]

    @property
    def name(self) -> str:
        return self.table.fullname


def services_with_purges() -> list[str]:
    return [service.name for service in roster.SERVICES
            if (REPO_ROOT / service.package / "app" / "purge.py").exists()]


def rules_of(service: str, settings: Settings) -> list[Purge]:
    # Imported by name, as migrate.py does: the shared package depends on no service.
    module = importlib.import_module(f"{roster.BY_NAME[service].package}.app.purge")
    return module.purges(settings)


def batch_delete(rule: Purge, batch_size: int) -> Delete:
    """DELETE of at most `batch_size` rows the rule picks, skipping rows another transaction holds."""
    ctid = literal_column("ctid")
    batch = (select(ctid).select_from(rule.table).where(rule.condition).limit(batch_size)
             .with_for_update(skip_locked=True))
    # ctid = ANY(ARRAY(...)): the planner fetches the picked rows by their address (a TID scan).
    return delete(rule.table).where(ctid == func.any(func.array(batch.scalar_subquery())))


def purge_table(connection: Connection, rule: Purge, *, batch_size: int) -> int:
    """Delete every row the rule picks, batch by batch; returns how many went."""
    statement = batch_delete(rule, batch_size)
    purged = 0
    while True:
        # SET LOCAL, not connection options: it holds for this transaction only, also through a pooler.
        connection.execute(text(f"SET LOCAL lock_timeout = {BATCH_LOCK_TIMEOUT_MS}"))
        connection.execute(text(f"SET LOCAL statement_timeout = {BATCH_STATEMENT_TIMEOUT_MS}"))
        deleted = connection.execute(statement).rowcount
        connection.commit()  # each batch its own transaction: its row locks last one batch, not the whole purge
        purged += deleted
        if deleted < batch_size:
            return purged


def purge_service(service: str, settings: Settings | None = None,
                  report: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Run every rule of one service; returns rows purged per table (and reports each as it finishes)."""
    settings = settings or Settings.from_env(service)
    engine = create_engine(settings.database_url, poolclass=NullPool, connect_args={
        "application_name": f"salesync-purge-{service}", "connect_timeout": 5})
    counts: dict[str, int] = {}
    try:
        with engine.connect() as connection:
            for rule in rules_of(service, settings):
                counts[rule.name] = purge_table(connection, rule, batch_size=settings.purge_batch_size)
                log.info("purged %s rows of %s", counts[rule.name], rule.name)
                if report:
                    report(rule.name, counts[rule.name])
    finally:
        engine.dispose()
    return counts


def main(argv: list[str]) -> int:
    services = argv or services_with_purges()
    unknown = [name for name in services if name not in services_with_purges()]
    if unknown:
        print(f"nothing to purge in: {', '.join(unknown)}; services with purges: {', '.join(services_with_purges())}",
              file=sys.stderr)
        return 2
    try:
        configure_logging("purge", Settings.from_env("purge").log_level)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 78
    failed = False
    for service in services:
        try:
            purge_service(service, report=lambda table, rows: print(f"purged {table}: {rows} rows", flush=True))
        except ConfigError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            return 78
        except Exception as exc:
            # One service failing leaves the others to purge; one line here, the traceback in the log.
            log.exception("purging %s failed", service)
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"could not purge {service}: {reason}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
