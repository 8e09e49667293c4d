import datetime
import zoneinfo

import psycopg2
import pytest
import requests

from local_run.postgres import libpq_url
from salesync_common.database import truncate_all
from salesync_common.testing import CheckedClient, local_service_urls, migrated_settings
from dashboard_service.app import create_app
from dashboard_service.app.models import db

MENU = {"페퍼로니 피자": 18000, "포테이토 피자": 21000, "콜라": 2000}
SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")


@pytest.fixture(scope="session")
def urls(store_service, item_service, order_service, sale_service):
    return local_service_urls(store=store_service, item=item_service, order=order_service, sale=sale_service)


@pytest.fixture(scope="session")
def app(database_url, urls):
    app = create_app(migrated_settings("dashboard", database_url, service_urls=urls))
    app.test_client_class = CheckedClient
    return app


@pytest.fixture(autouse=True)
def clean_tables(app):
    yield
    with app.app_context():
        truncate_all(db)


@pytest.fixture
def client(app):
    return app.test_client()


def today():
    return datetime.datetime.now(SEOUL).date()


def days_ago(n):
    return today() - datetime.timedelta(days=n)


def period(start, end):
    return f"start={start.isoformat()}&end={end.isoformat()}"


class Shop:
    """One store's POS: its menu, costs, orders and payments made through the real services over HTTP."""

    def __init__(self, store_id, headers, urls, database_url, menu=MENU):
        self.store_id = store_id
        self.headers = headers
        self.urls = urls
        self.database_url = database_url
        category = self.call("POST", "item", "/categories/", {"name": "피자"})
        self.items = {name: self.call("POST", "item", f"/categories/{category['id']}/items",
                                      {"name": name, "price": price})["id"]
                      for name, price in menu.items()}

    def call(self, method, service, path, body=None):
        response = requests.request(method, self.urls[service] + path, json=body, headers=self.headers, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def set_costs(self, effective_date=None, **costs):
        body = {"items": [{"item_id": self.items[name], "cost": cost} for name, cost in costs.items()]}
        if effective_date is not None:
            body["effective_date"] = effective_date.isoformat()
        return self.call("POST", "item", "/categories/items/costs", body)

    def sell(self, day=None, payment_type="카드", table_no=1, **quantities):
        """Order and pay a table; with day, move the payment to noon of that business day (Seoul)."""
        carts = [{"item_id": self.items[name], "quantity": n} for name, n in quantities.items()]
        order = self.call("POST", "order", "/orders/", {"table_no": table_no, "carts": carts})
        sale = self.call("POST", "sale", "/sales/", {"table_no": table_no, "payment_type": payment_type,
                                                    "total_price": order["total_price"]})
        if day is not None:
            noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=SEOUL)
            with psycopg2.connect(libpq_url(self.database_url)) as connection, connection.cursor() as cursor:
                cursor.execute('UPDATE "order".orders SET paid_at = %s WHERE order_id = %s', (noon, sale["order_id"]))
                cursor.execute("UPDATE sale.sales SET completed_at = %s WHERE sale_id = %s", (noon, sale["id"]))
        return sale

    def refund(self, sale):
        return self.call("DELETE", "sale", f"/sales/{sale['id']}")


@pytest.fixture
def shop(new_store, urls, database_url):
    """shop(**store fields) -> a new store with the MENU."""
    def _shop(**store):
        store_id, headers = new_store(**store)
        return Shop(store_id, headers, urls, database_url)
    return _shop
