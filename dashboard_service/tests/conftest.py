import datetime
import zoneinfo

import pytest

from testsupport.fixtures import service_fixtures
from testsupport.shop import Http, Shop

MENU = {"페퍼로니 피자": 18000, "포테이토 피자": 21000, "콜라": 2000}
SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")

urls, app, client, clean_tables = service_fixtures("dashboard", calls=("store", "item", "order", "sale"))


def today():
    return datetime.datetime.now(SEOUL).date()


def days_ago(n):
    return today() - datetime.timedelta(days=n)


def period(start, end):
    return f"start={start.isoformat()}&end={end.isoformat()}"


class Pizzeria(Shop):
    """A store with the MENU in one category, made through the real services over HTTP."""

    def call(self, method, service, path, body=None):
        """A call to one service by name (the path says which, and the name reads well in a test)."""
        return super().call(method, path, body)


@pytest.fixture
def shop(new_store, urls, database_url):
    """shop(**store fields) -> a new store with the MENU."""
    def _shop(**store):
        store_id, headers = new_store(**store)
        pizzeria = Pizzeria(Http(urls), store_id=store_id, headers=headers, database_url=database_url)
        pizzeria.build_menu({"피자": MENU})
        return pizzeria
    return _shop
