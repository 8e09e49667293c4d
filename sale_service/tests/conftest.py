import pytest
import requests

from salesync_common.database import truncate_all
from salesync_common.testing import CheckedClient, local_service_urls, migrated_settings
from sale_service.app import create_app
from sale_service.app.models import db

MENU = {"김치찌개": 9000, "제육볶음": 11000, "공기밥": 1000}


@pytest.fixture(scope="session")
def urls(store_service, item_service, order_service):
    return local_service_urls(store=store_service, item=item_service, order=order_service)


@pytest.fixture(scope="session")
def app(database_url, urls):
    app = create_app(migrated_settings("sale", database_url, service_urls=urls), reconcile_every=0)
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


class Pos:
    """One store's POS terminal talking to the real item and order services over HTTP."""

    def __init__(self, headers, urls):
        self.headers = headers
        self.urls = urls
        category = self._call("POST", "item", "/categories/", {"name": "식사"})
        self.items = {}
        for name, price in MENU.items():
            self.items[name] = self._call("POST", "item", f"/categories/{category['id']}/items",
                                          {"name": name, "price": price})["id"]

    def _call(self, method, service, path, body=None):
        response = requests.request(method, self.urls[service] + path, json=body, headers=self.headers, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def order(self, table_no, **quantities):
        carts = [{"item_id": self.items[name], "quantity": n} for name, n in quantities.items()]
        return self._call("POST", "order", "/orders/", {"table_no": table_no, "carts": carts})

    def table(self, table_no):
        return self._call("GET", "order", f"/orders/unpaids/{table_no}")


@pytest.fixture
def pos(new_store, urls):
    def _pos(**store):
        _, headers = new_store(**store)
        return Pos(headers, urls)
    return _pos
