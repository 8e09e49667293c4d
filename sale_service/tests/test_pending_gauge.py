"""salesync_sales_pending: the operator's alert on a payment left pending (SalesyncSalesPending, > 60 s)."""
import datetime

from sqlalchemy import func, select

from sale_service.app.models import COMPLETED, FAILED, PENDING, Sale, db
from testsupport.scrape import by_label


def add_sale(*, order_id: int, status: str, age_seconds: int, now: datetime.datetime):
    db.session.add(Sale(store_id=1, order_id=order_id, table_no=order_id, total_price=1000, payment_method="card",
                        status=status, created_at=now - datetime.timedelta(seconds=age_seconds),
                        completed_at=now if status == COMPLETED else None,
                        failure_reason="declined" if status == FAILED else None))


def test_pending_sales_are_counted_with_the_age_of_the_oldest(app, client):
    assert by_label(client, "salesync_sales_pending", "figure") == {"count": 0, "oldest_age_seconds": 0}
    with app.app_context():
        now = db.session.scalar(select(func.now()))
        add_sale(order_id=1, status=PENDING, age_seconds=90, now=now)
        add_sale(order_id=2, status=PENDING, age_seconds=5, now=now)
        add_sale(order_id=3, status=COMPLETED, age_seconds=600, now=now)  # old, but finished
        add_sale(order_id=4, status=FAILED, age_seconds=900, now=now)
        db.session.commit()
    figures = by_label(client, "salesync_sales_pending", "figure")
    assert figures["count"] == 2
    assert 90 <= figures["oldest_age_seconds"] < 150
