"""The three routes a consulting job reads the store's data from (order, sale and item services): only the
consulting service may call them, for the store of the token, over a bounded period."""
import datetime

import pytest
import requests

from salesync_common.contracts.items import ConsultingMenu
from salesync_common.contracts.orders import ConsultingOrderSummary
from salesync_common.contracts.sales import ConsultingSaleSummary
from testsupport.settings import service_headers

ROUTES = [("order", "/internal/consulting/orders", ConsultingOrderSummary),
          ("sale", "/internal/consulting/sales", ConsultingSaleSummary),
          ("item", "/internal/consulting/menu", ConsultingMenu)]
TODAY = datetime.date.today()


@pytest.fixture
def served(order_service, sale_service, item_service):
    return {"order": order_service.url, "sale": sale_service.url, "item": item_service.url}


def get(served, service, path, headers, caller="consulting", **params):
    params = {"start": TODAY.isoformat(), "end": TODAY.isoformat(), **params}
    return requests.get(served[service] + path, params=params, timeout=10,
                        headers={**headers, **service_headers(service, caller=caller)})


@pytest.mark.parametrize("service,path,model", ROUTES, ids=[r[0] for r in ROUTES])
def test_the_consulting_service_reads_the_store_of_its_token(served, shop, service, path, model):
    answer = get(served, service, path, shop.headers)
    assert answer.status_code == 200, answer.text
    model.model_validate(answer.json())


@pytest.mark.parametrize("service,path,model", ROUTES, ids=[r[0] for r in ROUTES])
@pytest.mark.parametrize("caller", ["bff", "dashboard"])
def test_no_other_service_may_read_them(served, shop, service, path, model, caller):
    answer = get(served, service, path, shop.headers, caller=caller)
    assert (answer.status_code, answer.json()["error"]) == (403, "caller_not_allowed")


@pytest.mark.parametrize("service,path,model", ROUTES, ids=[r[0] for r in ROUTES])
def test_a_period_over_the_report_limit_is_refused(served, shop, service, path, model):
    answer = get(served, service, path, shop.headers, start=(TODAY - datetime.timedelta(days=366)).isoformat())
    assert answer.status_code == 400
    assert answer.json()["field"] == "end" and answer.json()["max_days"] == 366


def test_the_menu_gives_another_stores_item_ids_nothing(served, shop, new_store):
    _, stranger = new_store()
    ids = ",".join(str(item_id) for item_id in shop.items.values())
    answer = get(served, "item", "/internal/consulting/menu", stranger, ids=ids)
    assert answer.status_code == 200 and answer.json() == {"items": []}
