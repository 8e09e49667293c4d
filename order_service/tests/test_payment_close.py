import pytest

from testsupport.settings import service_headers

from .test_orders import order, table


def from_sale():
    """The sale service's proof: only it may close an order for a sale."""
    return service_headers("order", caller="sale")


def placed(client, shop, table_no=3):
    headers, items = shop
    return order(client, headers, table_no, [(items["아메리카노"], 2)]).get_json()["order_id"]


def pay(client, headers, order_id, sale_id=11, total_price=9000):
    return client.post(f"/internal/orders/{order_id}/pay", json={"sale_id": sale_id, "total_price": total_price},
                       headers={**headers, **from_sale()})


def test_closing_an_order_for_a_sale_frees_the_table(client, shop):
    headers, _ = shop
    order_id = placed(client, shop)

    closed = pay(client, headers, order_id)

    assert closed.status_code == 200
    assert closed.get_json()["status"] == "paid" and closed.get_json()["sale_id"] == 11
    assert table(client, headers, 3)["carts"] == []


def test_closing_again_for_the_same_sale_answers_the_same(client, shop):
    headers, _ = shop
    order_id = placed(client, shop)
    first = pay(client, headers, order_id).get_json()
    again = pay(client, headers, order_id)
    assert again.status_code == 200 and again.get_json() == first


def test_an_order_cannot_be_paid_by_two_sales(client, shop):
    headers, _ = shop
    order_id = placed(client, shop)
    pay(client, headers, order_id, sale_id=11)

    second = pay(client, headers, order_id, sale_id=12)

    assert second.status_code == 409 and second.get_json()["error"] == "order_already_paid"


def test_an_order_changed_since_the_payment_was_started_is_not_closed(client, shop):
    headers, _ = shop
    order_id = placed(client, shop)

    stale = pay(client, headers, order_id, total_price=4500)

    assert stale.status_code == 409
    assert stale.get_json()["order_total"] == 9000
    assert table(client, headers, 3)["total_price"] == 9000


def test_a_cancelled_order_cannot_be_paid_and_a_paid_one_cannot_be_changed(client, shop):
    headers, items = shop
    cancelled_id = placed(client, shop, table_no=1)
    client.delete("/orders/1", headers=headers)
    assert pay(client, headers, cancelled_id, sale_id=5).get_json()["error"] == "order_cancelled"

    paid_id = placed(client, shop, table_no=2)
    pay(client, headers, paid_id, sale_id=6)
    assert order(client, headers, 2, [(items["카페라떼"], 1)], method="PUT").status_code == 404
    assert client.get(f"/internal/orders/{paid_id}", headers=headers).get_json()["total_price"] == 9000


def test_the_open_order_of_a_table_is_found_for_payment(client, shop):
    headers, _ = shop
    order_id = placed(client, shop, table_no=0)
    body = client.get("/internal/orders/open/0", headers=headers).get_json()
    assert body["order_id"] == order_id and body["total_price"] == 9000 and body["status"] == "open"
    assert client.get("/internal/orders/open/1", headers=headers).status_code == 404
    assert client.get("/internal/orders/99999999999", headers=headers).status_code == 404


def test_a_bad_close_request_is_a_400(client, shop):
    headers, _ = shop
    order_id = placed(client, shop)
    for body in ({}, {"sale_id": "1", "total_price": 9000}, {"sale_id": 1, "total_price": -1}):
        assert client.post(f"/internal/orders/{order_id}/pay", json=body,
                           headers={**headers, **from_sale()}).status_code == 400
    assert table(client, headers, 3)["total_price"] == 9000


def test_one_sale_cannot_close_two_orders(client, shop):
    headers, _ = shop
    first = placed(client, shop, table_no=1)
    second = placed(client, shop, table_no=2)
    pay(client, headers, first, sale_id=77)

    reused = pay(client, headers, second, sale_id=77)

    assert reused.status_code == 409 and reused.get_json()["error"] == "sale_already_used"
    assert table(client, headers, 2)["total_price"] == 9000


def test_a_paid_order_gives_a_refund_its_lines_as_ordered(client, shop):
    headers, items = shop
    order_id = order(client, headers, 4, [(items["아메리카노"], 2), (items["치즈케이크"], 1)]).get_json()["order_id"]
    pay(client, headers, order_id, sale_id=21, total_price=2 * 4500 + 6500)

    body = client.get(f"/internal/orders/{order_id}/lines", headers=headers).get_json()

    assert (body["order_id"], body["status"], body["sale_id"]) == (order_id, "paid", 21)
    assert body["paid_at"] is not None
    assert body["lines"] == [
        {"item_id": items["아메리카노"], "name": "아메리카노", "quantity": 2, "unit_price": 4500},
        {"item_id": items["치즈케이크"], "name": "치즈케이크", "quantity": 1, "unit_price": 6500},
    ]
    assert client.get("/internal/orders/99999999999/lines", headers=headers).status_code == 404


@pytest.mark.parametrize("caller,status,error", [
    (None, 401, "service_token_required"),
    ("bff", 403, "caller_not_allowed"),
    ("dashboard", 403, "caller_not_allowed"),
], ids=["a store token alone", "the BFF", "another service"])
def test_only_the_sale_service_closes_an_order(app, shop, caller, status, error):
    """The attack: a store's token alone claims a sale id the sale service is about to give another store."""
    headers, _ = shop
    client = app.test_client(caller=caller)
    order_id = placed(app.test_client(), shop)

    claimed = client.post(f"/internal/orders/{order_id}/pay", json={"sale_id": 424242, "total_price": 9000},
                          headers=headers)

    assert claimed.status_code == status and claimed.get_json()["error"] == error
    assert table(app.test_client(), headers, 3)["total_price"] == 9000  # still open
    # The sale id was not taken: the sale service can still close an order with it.
    assert pay(app.test_client(), headers, order_id, sale_id=424242).status_code == 200
