import pytest
import requests

from salesync_common.database import truncate_all
from salesync_common.testing import CheckedClient, local_service_urls, migrated_settings
from order_service.app import create_app
from order_service.app.models import db

MENU = {"아메리카노": 4500, "카페라떼": 5000, "치즈케이크": 6500}


@pytest.fixture(scope="session")
def app(database_url, store_service, item_service):
    settings = migrated_settings("order", database_url,
                                 service_urls=local_service_urls(store=store_service, item=item_service))
    app = create_app(settings)
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


@pytest.fixture
def build_menu(item_service):
    """Create a category and the MENU items for a store through the real item service; returns name -> id."""
    def _build_menu(headers, prices=MENU):
        category = requests.post(item_service.url + "/categories/", json={"name": "음료"}, headers=headers, timeout=10)
        assert category.status_code == 201, category.text
        ids = {}
        for name, price in prices.items():
            item = requests.post(f"{item_service.url}/categories/{category.json()['id']}/items",
                                 json={"name": name, "price": price}, headers=headers, timeout=10)
            assert item.status_code == 201, item.text
            ids[name] = item.json()["id"]
        return ids
    return _build_menu


@pytest.fixture
def shop(new_store, build_menu):
    """A store with a menu: (headers, item ids by name)."""
    _, headers = new_store()
    return headers, build_menu(headers)
