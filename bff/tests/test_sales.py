"""Payments, the sale list, refunds and revenue through the BFF (API.md §5)."""
import datetime
import zoneinfo


def test_paying_by_cash_and_by_card_closes_the_tables_and_lists_the_sales(pos):
    terminal = pos()
    terminal.order(1, 콜라=2)
    terminal.order(2, **{"포테이토 피자": 1})

    cash = terminal.call("POST", "/sales/", {"table_no": 1, "payment_type": "현금", "total_price": 4000}, expect=201)
    card = terminal.call("POST", "/sales/", {"table_no": 2, "payment_type": "카드", "total_price": 21000}, expect=201)
    assert cash["table_no"] == 1 and card["total_price"] == 21000
    assert terminal.call("GET", "/orders/unpaids")["orders"] == []

    sales = terminal.call("GET", "/sales/")["sales"]
    assert [(sale["id"], sale["payment_type"], sale["total_price"]) for sale in sales] == [
        (cash["id"], "현금", 4000), (card["id"], "카드", 21000)]

    today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date().isoformat()
    daily = terminal.call("GET", f"/sales/daily?date={today}")
    assert (daily["sales_volume"], daily["cash_total"], daily["card_total"]) == (25000, 4000, 21000)
    period = terminal.call("GET", f"/sales/period?start={today}&end={today}")
    assert period["sales_volume"] == 25000


def test_a_total_that_differs_from_the_order_is_a_409(pos):
    terminal = pos()
    terminal.order(1, 콜라=1)
    terminal.call("POST", "/sales/", {"table_no": 1, "payment_type": "카드", "total_price": 1}, expect=409)


def test_an_idempotency_key_charges_once(pos):
    terminal = pos()
    terminal.order(5, 콜라=1)
    body = {"table_no": 5, "payment_type": "카드", "total_price": 2000}
    first = terminal.request("POST", "/sales/", body, **{"Idempotency-Key": "pay-5"})
    again = terminal.request("POST", "/sales/", body, **{"Idempotency-Key": "pay-5"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(terminal.call("GET", "/sales/")["sales"]) == 1


def test_a_refund_is_recorded_once(pos):
    terminal = pos()
    terminal.order(1, 콜라=1)
    sale_id = terminal.call("POST", "/sales/", {"table_no": 1, "payment_type": "현금", "total_price": 2000},
                            expect=201)["id"]
    refund = terminal.call("DELETE", f"/sales/{sale_id}")
    assert refund["sale_id"] == sale_id and refund["amount"] == 2000
    terminal.call("DELETE", f"/sales/{sale_id}", expect=409)


def test_a_missing_report_date_is_a_400_from_the_sale_service(pos):
    response = pos().request("GET", "/sales/daily")
    assert response.status_code == 400 and response.get_json()["field"] == "date"
