import pytest

from testsupport.fixtures import service_fixtures
from testsupport.shop import Http, Shop

MENU = {"아메리카노": 4500, "카페라떼": 5000, "치즈케이크": 6500}

urls, app, client, clean_tables = service_fixtures("order", calls=("store", "item"), clean_before=True)


@pytest.fixture
def build_menu(urls):
    """Create a category and the MENU items for a store through the real item service; returns name -> id."""
    def _build_menu(headers, prices=MENU):
        return Shop(Http(urls), headers=headers).build_menu({"음료": prices})
    return _build_menu


@pytest.fixture
def shop(new_store, build_menu):
    """A store with a menu: (headers, item ids by name)."""
    _, headers = new_store()
    return headers, build_menu(headers)
