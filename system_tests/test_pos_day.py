"""A store's day through real HTTP only: store, item, order and sale services each on its own port."""
import datetime
import uuid
import zoneinfo

import requests

from testsupport.settings import service_headers
from testsupport.shop import Http, Shop


class Terminal:
    def __init__(self, urls, headers=None):
        self.urls = urls
        self.headers = headers or {}

    def call(self, method, service, path, body=None, expect=None, **headers):
        response = requests.request(method, self.urls[service] + path, json=body,
                                    headers={**service_headers(service), **self.headers, **headers}, timeout=10)
        assert response.status_code < 500, response.text
        if expect is not None:
            assert response.status_code == expect, response.text
        return response.json()


def test_a_cafe_day_from_menu_to_revenue(store_service, item_service, order_service, sale_service):
    urls = {"store": store_service.url, "item": item_service.url, "order": order_service.url,
            "sale": sale_service.url}
    shop = Shop(Http(urls)).sign_up(csrf=True, username="cafe" + uuid.uuid4().hex[:8], owner_name="이사장",
                                    phone="01011112222", store_name="하루카페", address="서울시 마포구",
                                    store_type="휴게음식점")
    pos = Terminal(urls, shop.headers)
    menu = shop.build_menu({"음료": {"아메리카노": "4500", "카페라떼": 5000},
                            "디저트": {"티라미수": "6800", "마카롱": 2500}})
    tree = pos.call("GET", "item", "/categories/items")["categories"]
    assert [c["category_name"] for c in tree] == ["음료", "디저트"]
    assert [i["price"] for c in tree for i in c["items"]] == [4500, 5000, 6800, 2500]

    def cart(**quantities):
        return [{"item_id": menu[name], "quantity": n} for name, n in quantities.items() if n]

    # Tables 0 (kiosk) to 8 each order something.
    for table_no in range(9):
        placed = pos.call("POST", "order", "/orders/",
                          {"table_no": table_no, "carts": cart(아메리카노=1 + table_no % 3, 마카롱=table_no % 2)},
                          expect=200)
        assert placed["result"] == "success"
    # Table 2 changes its order, table 5 cancels by emptying its cart, table 8 cancels with DELETE.
    changed = pos.call("PUT", "order", "/orders/", {"table_no": 2, "carts": cart(티라미수=2, 카페라떼=1)})
    assert changed["result"] == "success"
    assert pos.call("PUT", "order", "/orders/", {"table_no": 5, "carts": []})["result"] == "cancelled"
    assert pos.call("DELETE", "order", "/orders/8")["orders"]

    unpaid = pos.call("GET", "order", "/orders/unpaids")["orders"]
    assert [o["table_no"] for o in unpaid] == [0, 1, 2, 3, 4, 6, 7]
    assert next(o for o in unpaid if o["table_no"] == 2)["total_price"] == 2 * 6800 + 5000

    paid_total = 0
    for n, table_no in enumerate([0, 1, 2, 3, 4, 6, 7]):
        total = pos.call("GET", "order", f"/orders/unpaids/{table_no}")["total_price"]
        payment_type = "카드" if n % 2 else "현금"
        paid = pos.call("POST", "sale", "/sales/",
                        {"table_no": table_no, "payment_type": payment_type, "total_price": total},
                        expect=201, **{"Idempotency-Key": f"pay-{table_no}"})
        assert paid["result"] == "success"
        paid_total += total
    # A retried card payment replays, it does not charge again.
    again = pos.call("POST", "sale", "/sales/", {"table_no": 1, "payment_type": "카드",
                                                 "total_price": 4500 * 2 + 2500},
                     expect=201, **{"Idempotency-Key": "pay-1"})
    assert again["result"] == "success"

    assert pos.call("GET", "order", "/orders/unpaids")["orders"] == []
    sales = pos.call("GET", "sale", "/sales/")["sales"]
    assert len(sales) == 7
    assert {s["payment_type"] for s in sales} == {"현금", "카드"}
    today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()
    daily = pos.call("GET", "sale", f"/sales/daily?date={today}")
    period = pos.call("GET", "sale", f"/sales/period?start={today - datetime.timedelta(days=6)}&end={today}")
    assert daily["sales_volume"] == paid_total == sum(s["total_price"] for s in sales)
    assert period["sales_volume"] == paid_total and len(period["days"]) == 7
    expected = (4500 * 1 + 0) + (4500 * 2 + 2500) + (2 * 6800 + 5000) + (4500 * 1 + 2500) \
        + (4500 * 2) + (4500 * 1) + (4500 * 2 + 2500)
    assert paid_total == expected

    # The report the dashboard will use agrees with the payments, to the won.
    report = pos.call("GET", "order", f"/internal/reports/item-days?start={today}&end={today}")
    assert sum(sum(item["sales_volumes"]) for item in report["items"]) == paid_total
