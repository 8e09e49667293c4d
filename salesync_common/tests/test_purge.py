"""The purge (`python -m salesync_common.purge`) against the real, migrated schemas: old rows of every
purged kind go, fresh ones stay, deletes go in batches, and the shop's records are never touched."""
import os
import pathlib
import random
import subprocess
import sys
import threading
import uuid

import psycopg2
import pytest
from sqlalchemy import create_engine, event, text

from salesync_common import purge
from testsupport.postgres import libpq_url
from testsupport.settings import migrated_settings, settings_for_tests

REPO = pathlib.Path(__file__).resolve().parents[2]
PURGED = ("store", "order", "sale", "dashboard", "consulting")

# One row of each purged kind, its age a parameter: (table, INSERT with %(age)s as an interval, marker column).
ROWS = {
    "order.idempotency_keys": """INSERT INTO "order".idempotency_keys (store_id, key, request_hash, created_at)
                                 VALUES (1, %(marker)s, 'h', now() - %(age)s::interval)""",
    "sale.idempotency_keys": """INSERT INTO sale.idempotency_keys (store_id, key, request_hash, created_at)
                                VALUES (1, %(marker)s, 'h', now() - %(age)s::interval)""",
    "store.login_failures": """INSERT INTO store.login_failures (username, address, failed_at)
                               VALUES (%(marker)s, '10.0.0.1', now() - %(age)s::interval)""",
    "store.password_check_failures": """INSERT INTO store.password_check_failures (store_id, address, failed_at)
                                        VALUES (1, %(marker)s, now() - %(age)s::interval)""",
    "store.sign_ups": """INSERT INTO store.sign_ups (address, signed_up_at)
                         VALUES (%(marker)s, now() - %(age)s::interval)""",
    "store.password_proofs": """INSERT INTO store.password_proofs (token_id, store_id, proved_at)
                                VALUES (%(marker)s, 1, now() - %(age)s::interval)""",
    "consulting.outbox": """INSERT INTO consulting.outbox (topic, message_key, payload, sent_at)
                            VALUES ('consulting', %(marker)s, '{}', now() - %(age)s::interval)""",
    "consulting.consulting_jobs": """INSERT INTO consulting.consulting_jobs
                                         (req_id, store_id, start_date, end_date, status, source, consulting,
                                          created_at, finished_at)
                                     VALUES (%(marker)s::uuid, 1, '2026-01-01', '2026-01-31', 'success', 'rule_based',
                                             'advice', now() - %(age)s::interval, now() - %(age)s::interval)""",
    "dashboard.dead_letters": """INSERT INTO dashboard.dead_letters (topic, partition, "offset", reason, detail,
                                                                     dead_lettered_at)
                                 VALUES (%(marker)s, 0, 0, 'bad_json', 'x', now() - %(age)s::interval)""",
}
MARKER_COLUMN = {
    "order.idempotency_keys": "key", "sale.idempotency_keys": "key", "store.login_failures": "username",
    "store.password_check_failures": "address", "store.sign_ups": "address", "store.password_proofs": "token_id",
    "consulting.outbox": "message_key", "consulting.consulting_jobs": "req_id::text",
    "dashboard.dead_letters": "topic",
}
# Older than each default keeping time (24 h, the 15-minute and 1-hour windows, 10 minutes, 7, 30 and 90 days),
# and well within it.
OLD = {"order.idempotency_keys": "25 hours", "sale.idempotency_keys": "25 hours",
       "store.login_failures": "16 minutes", "store.password_check_failures": "16 minutes",
       "store.sign_ups": "61 minutes", "store.password_proofs": "11 minutes", "consulting.outbox": "8 days",
       "consulting.consulting_jobs": "91 days", "dashboard.dead_letters": "31 days"}
FRESH = {"order.idempotency_keys": "23 hours", "sale.idempotency_keys": "23 hours",
         "store.login_failures": "14 minutes", "store.password_check_failures": "14 minutes",
         "store.sign_ups": "59 minutes", "store.password_proofs": "9 minutes", "consulting.outbox": "6 days",
         "consulting.consulting_jobs": "89 days", "dashboard.dead_letters": "29 days"}


@pytest.fixture(scope="module")
def migrated(database_url):
    for service in PURGED:
        migrated_settings(service, database_url)
    return database_url


def run_sql(database_url, statement, params=None):
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def add_row(database_url, table, age) -> str:
    marker = str(uuid.uuid4())
    run_sql(database_url, ROWS[table], {"marker": marker, "age": age})
    return marker


def is_there(database_url, table, marker) -> bool:
    schema, name = table.split(".")
    return bool(run_sql(database_url, f'SELECT 1 FROM "{schema}".{name} WHERE {MARKER_COLUMN[table]} = %s', (marker,)))


def test_every_purged_kind_is_seeded_here():
    rules = {rule.name for service in PURGED for rule in purge.rules_of(service, settings_for_tests(service, None))}
    assert rules == set(ROWS)
    assert set(purge.services_with_purges()) == set(PURGED)


def test_old_rows_go_and_fresh_rows_stay(migrated):
    old = {table: add_row(migrated, table, OLD[table]) for table in ROWS}
    fresh = {table: add_row(migrated, table, FRESH[table]) for table in ROWS}

    # The command as the CronJob and `make run` run it.
    done = subprocess.run([sys.executable, "-m", "salesync_common.purge"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": migrated, "SALESYNC_ENV": "development"}, timeout=120,
                          check=False)

    assert done.returncode == 0, done.stderr
    assert [table for table, marker in old.items() if is_there(migrated, table, marker)] == []
    assert [table for table, marker in fresh.items() if not is_there(migrated, table, marker)] == []
    printed = done.stdout.splitlines()
    assert {line.split(":")[0] for line in printed} == {f"purged {table}" for table in ROWS}
    assert "purged consulting.outbox: 1 rows" in printed


def test_unsent_messages_and_unfinished_jobs_stay_however_old(migrated):
    unsent = str(uuid.uuid4())
    run_sql(migrated, """INSERT INTO consulting.outbox (topic, message_key, payload, created_at)
                         VALUES ('consulting', %s, '{}', now() - interval '1 year')""", (unsent,))
    pending = str(uuid.uuid4())
    run_sql(migrated, """INSERT INTO consulting.consulting_jobs (req_id, store_id, start_date, end_date, status,
                                                                 created_at)
                         VALUES (%s::uuid, 1, '2025-01-01', '2025-01-31', 'pending', now() - interval '1 year')""",
            (pending,))

    purge.purge_service("consulting", settings_for_tests("consulting", migrated))

    assert is_there(migrated, "consulting.outbox", unsent)
    assert is_there(migrated, "consulting.consulting_jobs", pending)


def test_orders_sales_refunds_and_settlements_are_never_purged(migrated):
    years_ago = "now() - interval '3 years'"
    # A store and sale id of its own: other tests of the session write orders, sales and settlements too.
    store_id, paid_by = random.randrange(10**9, 2**31 - 1), random.randrange(10**9, 2**31 - 1)
    order_id = run_sql(migrated, f"""INSERT INTO "order".orders (store_id, table_no, status, total_price, created_at,
                                                                updated_at, paid_at, sale_id)
                                    VALUES (%s, 1, 'paid', 4500, {years_ago}, {years_ago}, {years_ago}, %s)
                                    RETURNING order_id""", (store_id, paid_by))[0][0]
    run_sql(migrated, """INSERT INTO "order".order_lines (order_id, item_id, item_name, unit_price, quantity)
                         VALUES (%s, 1, '아메리카노', 4500, 1)""", (order_id,))
    sale_id = run_sql(migrated, f"""INSERT INTO sale.sales (store_id, order_id, table_no, total_price, payment_method,
                                                           status, idempotency_key, created_at, completed_at)
                                   VALUES (%s, %s, 1, 4500, 'cash', 'completed', 'old-key', {years_ago}, {years_ago})
                                   RETURNING sale_id""", (store_id, order_id))[0][0]
    run_sql(migrated, f"INSERT INTO sale.refunds (sale_id, store_id, amount, created_at) "
                      f"VALUES (%s, %s, 4500, {years_ago})", (sale_id, store_id))
    run_sql(migrated, f"""INSERT INTO dashboard.settlements (store_id, business_date, figures, text, channel, status,
                                                            created_at)
                         VALUES (%s, '2023-01-01', '{{}}', '정산', 'recorded', 'recorded', {years_ago})""", (store_id,))
    counts = {table: run_sql(migrated, f"SELECT count(*) FROM {table}")[0][0]
              for table in ('"order".orders', '"order".order_lines', "sale.sales", "sale.refunds",
                            "dashboard.settlements")}

    for service in PURGED:
        purge.purge_service(service, settings_for_tests(service, migrated))

    assert {table: run_sql(migrated, f"SELECT count(*) FROM {table}")[0][0] for table in counts} == counts
    assert min(counts.values()) >= 1


@pytest.mark.parametrize("service", PURGED)
def test_each_batch_finds_its_rows_by_an_index(migrated, service):
    """With sequential scans priced out, a rule no index serves still plans one: the table would be read whole."""
    settings = settings_for_tests(service, migrated)
    engine = create_engine(settings.database_url)
    plans = {}
    with engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        for rule in purge.rules_of(service, settings):
            compiled = purge.batch_delete(rule, 1000).compile(connection, compile_kwargs={"render_postcompile": True})
            plan = connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params).scalars().all()
            plans[rule.name] = "\n".join(plan)
    engine.dispose()
    assert {name: plan for name, plan in plans.items() if "Seq Scan" in plan or "Tid" not in plan} == {}


def deleted_per_batch(engine) -> list[int]:
    """How many rows each DELETE the engine runs removes, in order."""
    counts = []

    @event.listens_for(engine, "after_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("DELETE"):
            counts.append(cursor.rowcount)

    return counts


def test_rows_go_in_batches_of_the_batch_size(migrated):
    for _ in range(7):
        add_row(migrated, "dashboard.dead_letters", "40 days")
    settings = settings_for_tests("dashboard", migrated, purge_batch_size=3)
    engine = create_engine(settings.database_url)
    batches = deleted_per_batch(engine)
    [rule] = purge.rules_of("dashboard", settings)
    with engine.connect() as connection:
        purged = purge.purge_table(connection, rule, batch_size=settings.purge_batch_size)
    engine.dispose()

    assert purged == 7 and batches == [3, 3, 1]


def test_a_row_a_request_holds_is_skipped_not_waited_for(migrated):
    held = add_row(migrated, "order.idempotency_keys", "2 days")
    others = [add_row(migrated, "order.idempotency_keys", "2 days") for _ in range(3)]
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():  # a request that took over this key holds its row until it commits
        with psycopg2.connect(libpq_url(migrated)) as connection, connection.cursor() as cursor:
            cursor.execute('SELECT 1 FROM "order".idempotency_keys WHERE key = %s FOR UPDATE', (held,))
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(10)
        counts = purge.purge_service("order", settings_for_tests("order", migrated))
    finally:
        release.set()
        holder.join()

    assert counts["order.idempotency_keys"] >= 3
    assert is_there(migrated, "order.idempotency_keys", held)
    assert [marker for marker in others if is_there(migrated, "order.idempotency_keys", marker)] == []


def test_an_unknown_service_is_refused(capsys):
    assert purge.main(["item"]) == 2
    assert "nothing to purge in: item" in capsys.readouterr().err
