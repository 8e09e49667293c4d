"""After a drill: is every accepted order and payment stored exactly once, and is revenue the sum of payments?

Client side: the writes the drill's clients were told succeeded (drills.load.Records). Server side:
the order, sale, consulting and dashboard schemas of the drill's store, and GET /sales/period.
  lost        accepted orders missing, accepted payments without their completed sale (or whose
              order is not paid by that sale), consulting jobs whose advice never reached the dashboard
              (a job that failed with a reason the owner is shown is listed apart, not lost)
  duplicated  completed sales no client was told about (a second sale for an order, or a charge whose
              client saw a failure), extra outbox rows or dashboard results for one consulting job
"""
from __future__ import annotations

import collections
import datetime
import zoneinfo
from http import HTTPStatus

from .load import Client, Records


def reconcile(*, system, store_id: int, records: Records, client: Client) -> dict:
    with records.lock:
        orders = dict(records.orders)
        payments = dict(records.payments)
        consulting = dict(records.consulting)
    accepted = {key: p for key, p in payments.items() if p["status"] == HTTPStatus.CREATED}

    db_orders = {row[0]: row[1:] for row in system.sql(
        'SELECT order_id, status, sale_id, total_price FROM "order".orders WHERE store_id = %s', (store_id,))}
    db_sales = {row[0]: row[1:] for row in system.sql(
        "SELECT sale_id, order_id, status, total_price FROM sale.sales WHERE store_id = %s", (store_id,))}
    completed = {sale_id: row for sale_id, row in db_sales.items() if row[1] == "completed"}

    lost_orders = sorted(set(orders) - set(db_orders))
    lost_payments = []
    for key, payment in accepted.items():
        sale = completed.get(payment["sale_id"])
        order = db_orders.get(payment["order_id"])
        if sale is None or sale[0] != payment["order_id"] or sale[2] != payment["total"] \
                or order is None or order[0] != "paid" or order[1] != payment["sale_id"]:
            lost_payments.append(key)
    known_sales = {payment["sale_id"] for payment in accepted.values()}
    unknown_sales = sorted(set(completed) - known_sales)
    sales_per_order = collections.Counter(row[0] for row in completed.values())
    second_sales = sum(n - 1 for n in sales_per_order.values() if n > 1)
    pending = sum(1 for row in db_sales.values() if row[1] == "pending")
    paid_orders_total = sum(row[2] for row in db_orders.values() if row[0] == "paid")

    # Two clients may be told of one sale (drill 5): a payment is a sale, counted once.
    told = {payment["sale_id"]: payment["total"] for payment in accepted.values()}
    client_revenue = sum(told.values())
    db_revenue = sum(row[2] for row in completed.values())
    today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()
    status, period, _ = client.get(f"/sales/period?start={today - datetime.timedelta(days=1)}"
                                   f"&end={today + datetime.timedelta(days=1)}")
    api_revenue = period.get("sales_volume") if status == HTTPStatus.OK and period else None

    lost_consulting, duplicated_consulting, failed = [], 0, {}
    if consulting:
        ids = list(consulting)
        results = collections.Counter(str(row[0]) for row in system.sql(
            "SELECT req_id FROM dashboard.consulting_results WHERE req_id::text = ANY(%s)", (ids,)))
        outbox = collections.Counter(row[0] for row in system.sql(
            "SELECT message_key FROM consulting.outbox WHERE message_key = ANY(%s)", (ids,)))
        failed = {str(row[0]): row[1] for row in system.sql(
            "SELECT req_id, failure_reason FROM consulting.consulting_jobs WHERE req_id::text = ANY(%s) "
            "AND status = 'failed'", (ids,))}
        # A job that failed with a reason is not lost: the owner is shown "failed" and asks again.
        lost_consulting = [req_id for req_id in ids if results[req_id] == 0 and req_id not in failed]
        duplicated_consulting = sum(n - 1 for n in results.values() if n > 1) + \
            sum(n - 1 for n in outbox.values() if n > 1)

    lost = len(lost_orders) + len(lost_payments) + len(lost_consulting)
    duplicated = len(unknown_sales) + duplicated_consulting
    revenue_ok = client_revenue == db_revenue == api_revenue == paid_orders_total
    return {
        "accepted_orders": len(orders), "accepted_payments": len(accepted),
        "payments_not_accepted": len(payments) - len(accepted),
        "consulting_jobs": len(consulting), "consulting_failed": failed,
        "lost": lost, "duplicated": duplicated,
        "lost_orders": lost_orders, "lost_payments": lost_payments, "lost_consulting": lost_consulting,
        "unknown_completed_sales": unknown_sales, "second_sales_for_an_order": second_sales,
        "pending_sales_left": pending,
        "revenue": {"clients": client_revenue, "database_sales": db_revenue, "database_paid_orders": paid_orders_total,
                    "GET /sales/period": api_revenue, "equal": revenue_ok},
    }
