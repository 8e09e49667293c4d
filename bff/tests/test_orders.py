"""Table orders through the BFF (API.md §4): open, change, cancel, the kiosk's table 0, and the shapes the POS reads."""


def test_a_new_store_has_no_open_tables_yet_the_keys_are_there(pos):
    terminal = pos()
    assert terminal.call("GET", "/orders/unpaids")["orders"] == []
    empty = terminal.call("GET", "/orders/unpaids/5")
    assert empty["carts"] == [] and empty["total_price"] == 0


def test_the_kiosk_and_a_table_order_and_the_pos_sees_both(pos):
    terminal = pos()
    kiosk = terminal.order(0, 콜라=2)
    assert kiosk["result"] == "success" and kiosk["table_no"] == 0
    terminal.order(3, **{"포테이토 피자": 1, "콜라": 1})

    unpaid = terminal.call("GET", "/orders/unpaids")["orders"]
    assert [order["table_no"] for order in unpaid] == [0, 3]
    table = next(order for order in unpaid if order["table_no"] == 3)
    assert {(line["item_id"], line["item_name"], line["quantity"]) for line in table["carts"]} == {
        (terminal.ids["포테이토 피자"], "포테이토 피자", 1), (terminal.ids["콜라"], "콜라", 1)}

    kiosk_table = terminal.call("GET", "/orders/unpaids/0")
    assert kiosk_table["total_price"] == 4000
    assert [(line["item_id"], line["quantity"]) for line in kiosk_table["carts"]] == [(terminal.ids["콜라"], 2)]


def test_changing_emptying_and_deleting_a_tables_order(pos):
    terminal = pos()
    terminal.order(2, 콜라=1)
    changed = terminal.order(2, method="PUT", **{"페퍼로니 피자": 2})
    assert changed["result"] == "success" and changed["total_price"] == 48000
    assert terminal.call("GET", "/orders/unpaids/2")["total_price"] == 48000

    assert terminal.order(2, method="PUT")["result"] == "cancelled"
    assert terminal.call("GET", "/orders/unpaids/2")["carts"] == []
    assert terminal.order(2)["result"] == "failed"

    order_id = terminal.order(4, 콜라=3)["order_id"]
    deleted = terminal.call("DELETE", "/orders/4")
    assert deleted["orders"] == [order_id] and deleted["table_no"] == 4
    assert terminal.call("DELETE", "/orders/4")["orders"] == []


def test_a_second_order_on_an_open_table_is_a_409(pos):
    terminal = pos()
    terminal.order(1, 콜라=1)
    terminal.order(1, expect=409, 콜라=1)


def test_an_idempotency_key_replays_the_first_order(pos):
    terminal = pos()
    body = {"table_no": 6, "carts": [{"item_id": terminal.ids["콜라"], "quantity": 1}]}
    first = terminal.request("POST", "/orders/", body, **{"Idempotency-Key": "order-6-once"})
    again = terminal.request("POST", "/orders/", body, **{"Idempotency-Key": "order-6-once"})
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = terminal.request("POST", "/orders/", {**body, "table_no": 7}, **{"Idempotency-Key": "order-6-once"})
    assert other.status_code == 422
    assert len(terminal.call("GET", "/orders/unpaids")["orders"]) == 1


def test_an_idempotency_key_outside_ascii_is_refused_by_the_order_service_not_a_500(pos):
    terminal = pos()
    body = {"table_no": 6, "carts": [{"item_id": terminal.ids["콜라"], "quantity": 1}]}
    reply = terminal.request("POST", "/orders/", body, **{"Idempotency-Key": "caf\xe9"})
    assert reply.status_code == 400, reply.get_json()
    assert reply.get_json()["field"] == "Idempotency-Key"
    assert terminal.call("GET", "/orders/unpaids")["orders"] == []


def test_an_empty_idempotency_key_is_refused_not_dropped_on_the_way(pos):
    terminal = pos()
    body = {"table_no": 6, "carts": [{"item_id": terminal.ids["콜라"], "quantity": 1}]}
    reply = terminal.request("POST", "/orders/", body, **{"Idempotency-Key": ""})
    assert reply.status_code == 400, reply.get_json()
    assert terminal.call("GET", "/orders/unpaids")["orders"] == []


def test_every_id_table_and_price_the_pos_compares_is_a_json_integer(pos):
    terminal = pos()
    terminal.order(3, 콜라=1)
    categories = terminal.call("GET", "/categories/")["categories"]
    tree = terminal.call("GET", "/categories/items")["categories"]
    unpaid = terminal.call("GET", "/orders/unpaids")["orders"]
    table = terminal.call("GET", "/orders/unpaids/3")
    values = ([c["id"] for c in categories] + [c["category_id"] for c in tree]
              + [v for c in tree for i in c["items"] for v in (i["item_id"], i["price"])]
              + [o["table_no"] for o in unpaid] + [line["item_id"] for o in unpaid for line in o["carts"]]
              + [table["total_price"], table["table_no"]] + [line["item_id"] for line in table["carts"]])
    assert values and all(type(value) is int for value in values), values
