"""Keep the report aggregates true to the rows after a test (or a seed) moved payments or refunds in time.

The services count a payment's lines on its business day when it is made; a history made by paying now and
moving the payment back must be recounted, as an operator would after repairing rows by hand. A test database
holds only the schemas of the services under test: what is not there is left alone.
"""
from __future__ import annotations

import functools

import sqlalchemy

from order_service.app import recount as order_recount
from sale_service.app import recount as sale_recount
from salesync_common.recount import zone_of
from salesync_common.settings import normalise_database_url

from .postgres import libpq_url


@functools.cache
def _engine(database_url: str) -> sqlalchemy.Engine:
    return sqlalchemy.create_engine(normalise_database_url(libpq_url(database_url)), poolclass=sqlalchemy.NullPool)


def _exists(connection, table: str) -> bool:
    return connection.execute(sqlalchemy.text("SELECT to_regclass(:table) IS NOT NULL"), {"table": table}).scalar()


def recount(database_url: str, *, order_ids: list[int] = (), refund_ids: list[int] = (),
            store_ids: list[int] = ()) -> None:
    """Rebuild the report aggregates (item days, refund item days, revenue days) of the stores these orders and
    refunds belong to, and of store_ids."""
    with _engine(database_url).begin() as connection:
        has = {table: _exists(connection, table) for table in ('"order".item_days', "sale.refund_item_days")}
        stores = set(store_ids)
        if has['"order".item_days']:
            stores |= set(connection.execute(sqlalchemy.text(
                'SELECT store_id FROM "order".orders WHERE order_id = ANY(:ids)'), {"ids": list(order_ids)}).scalars())
        if has["sale.refund_item_days"]:
            stores |= set(connection.execute(sqlalchemy.text(
                "SELECT store_id FROM sale.refunds WHERE refund_id = ANY(:ids)"), {"ids": list(refund_ids)}).scalars())
        for store_id in sorted(stores):
            zone = zone_of(connection, store_id)
            if has['"order".item_days']:
                for recount_store in order_recount.RECOUNTS:
                    recount_store(session=connection, store_id=store_id, zone=zone)
            if has["sale.refund_item_days"]:
                for recount_store in sale_recount.RECOUNTS:
                    recount_store(session=connection, store_id=store_id, zone=zone)
