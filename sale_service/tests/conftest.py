import pytest

from testsupport.fixtures import service_fixtures
from testsupport.shop import Http, Shop

MENU = {"김치찌개": 9000, "제육볶음": 11000, "공기밥": 1000}

urls, app, client, clean_tables = service_fixtures("sale", calls=("store", "item", "order"), reconcile_every=0,
                                                clean_before=True)


@pytest.fixture
def pos(new_store, urls):
    """pos(**store fields) -> one store's POS terminal with the MENU, talking to the real item and order
    services over HTTP (terminal.order(table_no, **quantities), terminal.table(table_no))."""
    def _pos(**store):
        store_id, headers = new_store(**store)
        terminal = Shop(Http(urls), store_id=store_id, headers=headers)
        terminal.build_menu({"식사": MENU})
        return terminal
    return _pos
