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

    sales = terminal.call("GET", "/sales/")["sales"]  # newest first
    assert [(sale["id"], sale["payment_type"], sale["total_price"]) for sale in sales] == [
        (card["id"], "카드", 21000), (cash["id"], "현금", 4000)]

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


def paid_tables(terminal, count):
    """Pay tables 1..count one after the other; their sale ids, newest first."""
    ids = []
    for table_no in range(1, count + 1):
        terminal.order(table_no, 콜라=1)
        ids.append(terminal.call("POST", "/sales/", {"table_no": table_no, "payment_type": "카드",
                                                     "total_price": 2000}, expect=201)["id"])
    return ids[::-1]


def test_the_sale_list_comes_in_pages_newest_first_with_a_cursor(pos):
    terminal = pos()
    ids = paid_tables(terminal, 4)

    everything = terminal.call("GET", "/sales/")
    assert [sale["id"] for sale in everything["sales"]] == ids
    assert everything["limit"] == 100 and everything["next_cursor"] is None
    first = terminal.call("GET", "/sales/?limit=3")
    assert [sale["id"] for sale in first["sales"]] == ids[:3] and first["limit"] == 3 and first["next_cursor"]

    terminal.order(5, 콜라=1)  # paid between the pages: on no page of this walk, on the next first page
    newer = terminal.call("POST", "/sales/", {"table_no": 5, "payment_type": "현금", "total_price": 2000},
                          expect=201)["id"]
    last = terminal.call("GET", f"/sales/?limit=3&cursor={first['next_cursor']}")
    assert [sale["id"] for sale in last["sales"]] == ids[3:] and last["next_cursor"] is None
    assert terminal.call("GET", "/sales/?limit=1")["sales"][0]["id"] == newer


def test_a_bad_limit_or_cursor_is_a_400_naming_it(pos):
    terminal, other = pos(), pos()
    paid_tables(terminal, 2)
    paid_tables(other, 2)
    for query, field in (("limit=0", "limit"), ("limit=501", "limit"), ("limit=many", "limit"),
                         ("cursor=garbage!", "cursor"), ("cursor=", "cursor")):
        refused = terminal.request("GET", f"/sales/?{query}")
        assert refused.status_code == 400 and refused.get_json()["field"] == field, (query, refused.get_json())
    assert len(terminal.call("GET", "/sales/?limit=500")["sales"]) == 2

    their_cursor = other.call("GET", "/sales/?limit=1")["next_cursor"]
    refused = terminal.request("GET", f"/sales/?cursor={their_cursor}")
    assert refused.status_code == 400 and refused.get_json()["field"] == "cursor"


def test_the_document_names_the_page_parameters_and_the_cursor(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/sales/"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert parameters["limit"]["in"] == "query" and not parameters["limit"]["required"]
    assert (parameters["limit"]["schema"]["minimum"], parameters["limit"]["schema"]["maximum"]) == (1, 500)
    assert "100" in parameters["limit"]["schema"]["description"] and not parameters["cursor"]["required"]
