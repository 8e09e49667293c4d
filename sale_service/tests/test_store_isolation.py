import datetime
import time
import zoneinfo

import pytest

from salesync_common.tokens import issue_token
from testsupport.settings import TEST_JWT_SECRET

from .test_payments import pay, sales


def test_another_store_can_neither_pay_nor_see_nor_refund_my_sales(client, pos):
    mine, theirs = pos(), pos()
    mine.order(3, 김치찌개=1)
    paid_table = mine.order(4, 공기밥=1)
    sale_id = pay(client, mine, 4, paid_table["total_price"]).get_json()["id"]

    assert pay(client, theirs, 3, 9000).status_code == 404
    assert mine.table(3)["total_price"] == 9000
    assert sales(client, theirs) == []
    assert client.delete(f"/sales/{sale_id}", headers=theirs.headers).status_code == 404
    today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date().isoformat()
    assert client.get(f"/sales/daily?date={today}", headers=theirs.headers).get_json()["sales_volume"] == 0
    assert client.get(f"/sales/daily?date={today}", headers=mine.headers).get_json()["sales_volume"] == 1000


ROUTES = [("POST", "/sales/", {"table_no": 1, "payment_type": "카드", "total_price": 1}), ("GET", "/sales/", None),
          ("DELETE", "/sales/1", None), ("GET", "/sales/daily?date=2024-01-01", None),
          ("GET", "/sales/period?start=2024-01-01&end=2024-01-02", None),
          ("GET", "/internal/reports/refund-item-days?start=2024-01-01&end=2024-01-02", None)]


@pytest.mark.parametrize("method,path,body", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
@pytest.mark.parametrize("authorization", [
    None, "Bearer null", "Bearer " + issue_token(store_id=1, secret="y" * 48, ttl_seconds=600),
    "Bearer " + issue_token(store_id=1, secret=TEST_JWT_SECRET, ttl_seconds=60, now=time.time() - 600),
], ids=["none", "null", "wrong secret", "expired"])
def test_every_sale_route_needs_a_valid_token(client, method, path, body, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    assert client.open(path, method=method, json=body, headers=headers).status_code == 401
