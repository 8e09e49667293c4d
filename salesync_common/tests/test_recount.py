"""`python -m salesync_common.recount`: payments stored but not counted in the day aggregates (an old pod's,
during a rollout) are counted after it, and counted once."""
import datetime
import os
import pathlib
import subprocess
import sys
import zoneinfo

import psycopg2
import pytest

from testsupport.postgres import libpq_url
from testsupport.settings import migrated_settings
from testsupport.shop import PastOrder, write_paid_orders

REPO = pathlib.Path(__file__).resolve().parents[2]
SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
STORE = 7001  # other tests of the session leave stores of their own in these schemas
ITEM_DAYS = ('SELECT business_day, item_id, quantity, sales_volume FROM "order".item_days '
             f"WHERE store_id = {STORE} ORDER BY 1, 2")
REVENUE_DAYS = f"SELECT business_day, payments, paid_cash, paid_card FROM sale.revenue_days WHERE store_id = {STORE} " \
               "ORDER BY 1"


@pytest.fixture(scope="module")
def migrated(database_url):
    for service in ("store", "order", "sale"):
        migrated_settings(service, database_url)
    return database_url


def query(database_url, statement):
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall() if cursor.description else None


def recount(database_url, *arguments):
    return subprocess.run([sys.executable, "-m", "salesync_common.recount", *arguments], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "DATABASE_URL": database_url, "SALESYNC_ENV": "development"})


def test_payments_an_old_pod_stored_without_counting_them_are_counted_once(migrated):
    noon = datetime.datetime(2026, 11, 2, 12, tzinfo=SEOUL)
    write_paid_orders(migrated, store_id=STORE, orders=[
        (PastOrder(noon, {"김치찌개": 2}), [(1, "김치찌개", 9000, 2)]),
        (PastOrder(noon + datetime.timedelta(days=1), {"김치찌개": 1}, "cash"), [(1, "김치찌개", 9000, 1)])])
    counted = query(migrated, ITEM_DAYS), query(migrated, REVENUE_DAYS)
    # What an old release's pods leave: the payments, and no aggregate rows for them.
    query(migrated, f'DELETE FROM "order".item_days WHERE store_id = {STORE}; '
                    f"DELETE FROM sale.revenue_days WHERE store_id = {STORE}")

    done = recount(migrated)

    assert done.returncode == 0, done.stderr
    assert (query(migrated, ITEM_DAYS), query(migrated, REVENUE_DAYS)) == counted
    assert counted[1] == [(datetime.date(2026, 11, 2), 1, 0, 18000), (datetime.date(2026, 11, 3), 1, 9000, 0)]
    assert recount(migrated, "order", "--store", str(STORE)).returncode == 0  # again: counted once, not twice
    assert query(migrated, ITEM_DAYS) == counted[0]


def test_a_service_without_aggregates_is_refused_with_a_clear_line(migrated):
    done = recount(migrated, "item")
    assert done.returncode == 2 and "nothing to recount in: item" in done.stderr
