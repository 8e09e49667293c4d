import threading
import time

import pytest


def pay(client, pos, table_no, total, payment_type="카드", key=None):
    headers = {**pos.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post("/sales/", json={"table_no": table_no, "payment_type": payment_type, "total_price": total},
                       headers=headers)


def sales(client, pos):
    return client.get("/sales/", headers=pos.headers).get_json()["sales"]


@pytest.mark.parametrize("payment_type,label,method", [("카드", "카드", "card"), ("현금", "현금", "cash"),
                                                       ("card", "카드", "card"), ("CASH", "현금", "cash")])
def test_paying_a_table_records_one_sale_and_frees_the_table(client, pos, payment_type, label, method):
    terminal = pos()
    terminal.order(3, 김치찌개=2, 공기밥=2)

    paid = pay(client, terminal, 3, 20000, payment_type)

    assert paid.status_code == 201
    assert paid.get_json()["result"] == "success" and isinstance(paid.get_json()["id"], int)
    assert terminal.table(3)["carts"] == []
    [sale] = sales(client, terminal)
    assert sale["total_price"] == 20000 and sale["payment_type"] == label and sale["payment_method"] == method
    assert sale["id"] == paid.get_json()["id"]


def test_the_kiosk_table_is_paid_like_any_other(client, pos):
    terminal = pos()
    terminal.order(0, 제육볶음=1)
    assert pay(client, terminal, 0, 11000, "현금").status_code == 201


def test_a_total_that_differs_from_the_order_is_refused_with_both_figures(client, pos):
    terminal = pos()
    terminal.order(2, 김치찌개=1)

    refused = pay(client, terminal, 2, 8000)

    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "total_mismatch" and body["order_total"] == 9000 and body["payment_total"] == 8000
    assert terminal.table(2)["total_price"] == 9000
    assert sales(client, terminal) == []


def test_paying_a_free_table_is_a_404(client, pos):
    terminal = pos()
    refused = pay(client, terminal, 5, 1000)
    assert refused.status_code == 404 and refused.get_json()["error"] == "no_open_order"


def test_paying_twice_charges_once(client, pos):
    terminal = pos()
    terminal.order(1, 공기밥=3)
    assert pay(client, terminal, 1, 3000).status_code == 201
    assert pay(client, terminal, 1, 3000).status_code == 404
    assert len(sales(client, terminal)) == 1


def test_two_terminals_paying_one_table_at_once_make_exactly_one_sale(app, pos):
    """Six payments at once for one table, on eight tables (a race shows only now and then): exactly one
    cashier is told "paid", and that payment is the one sale."""
    terminal = pos()
    told_paid = []
    for table in range(1, 9):
        terminal.order(table, 김치찌개=1, 제육볶음=1)
        barrier = threading.Barrier(6)
        statuses = []

        def attempt(payment_type, table=table, barrier=barrier, statuses=statuses):
            client = app.test_client()
            barrier.wait()
            response = pay(client, terminal, table, 20000, payment_type)
            statuses.append((response.status_code, response.get_json().get("id")))

        threads = [threading.Thread(target=attempt, args=("카드" if n % 2 else "현금",)) for n in range(6)]
        [t.start() for t in threads]
        [t.join() for t in threads]

        paid = [sale_id for status, sale_id in statuses if status == 201]
        assert len(paid) == 1, (table, statuses)
        told_paid += paid
        assert {status for status, _ in statuses} <= {201, 404, 409}
        assert terminal.table(table)["carts"] == []
    assert sorted(sale["id"] for sale in sales(app.test_client(), terminal)) == sorted(told_paid)


def test_a_retried_payment_with_its_key_charges_once_and_answers_the_same(client, pos):
    terminal = pos()
    terminal.order(6, 제육볶음=2)

    first = pay(client, terminal, 6, 22000, key="pay-6")
    retry = pay(client, terminal, 6, 22000, key="pay-6")

    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(sales(client, terminal)) == 1


def test_concurrent_retries_with_one_key_charge_once(app, pos):
    terminal = pos()
    terminal.order(7, 김치찌개=1)
    barrier = threading.Barrier(4)
    replies = []

    def attempt():
        client = app.test_client()
        barrier.wait()
        replies.append(pay(client, terminal, 7, 9000, key="same-key"))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert {r.status_code for r in replies} <= {201, 409}
    assert [r.status_code for r in replies].count(201) >= 1
    assert len({r.get_json()["id"] for r in replies if r.status_code == 201}) == 1
    assert len(sales(app.test_client(), terminal)) == 1


def test_a_key_reused_for_another_payment_is_a_422(client, pos):
    terminal = pos()
    terminal.order(1, 공기밥=1)
    terminal.order(2, 공기밥=2)
    pay(client, terminal, 1, 1000, key="k1")
    reused = pay(client, terminal, 2, 2000, key="k1")
    assert reused.status_code == 422
    assert terminal.table(2)["total_price"] == 2000


BAD = [
    ({"payment_type": "카드", "total_price": 1000}, "table_no"),
    ({"table_no": "1", "payment_type": "카드", "total_price": 1000}, "table_no"),
    ({"table_no": 100, "payment_type": "카드", "total_price": 1000}, "table_no"),
    ({"table_no": 1, "total_price": 1000}, "payment_type"),
    ({"table_no": 1, "payment_type": "포인트", "total_price": 1000}, "payment_type"),
    ({"table_no": 1, "payment_type": 1, "total_price": 1000}, "payment_type"),
    ({"table_no": 1, "payment_type": "카드"}, "total_price"),
    ({"table_no": 1, "payment_type": "카드", "total_price": -1000}, "total_price"),
    ({"table_no": 1, "payment_type": "카드", "total_price": 1000.5}, "total_price"),
    ({"table_no": 1, "payment_type": "카드", "total_price": "천원"}, "total_price"),
    ({"table_no": 1, "payment_type": "카드", "total_price": True}, "total_price"),
]


@pytest.mark.parametrize("body,field", BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_a_bad_payment_is_refused_naming_the_field_and_charges_nothing(client, pos, body, field):
    terminal = pos()
    terminal.order(1, 공기밥=1)
    refused = client.post("/sales/", json=body, headers=terminal.headers)
    assert refused.status_code == 400 and refused.get_json()["field"] == field
    assert terminal.table(1)["total_price"] == 1000
    assert sales(client, terminal) == []


def test_a_numeric_string_total_is_accepted(client, pos):
    terminal = pos()
    terminal.order(1, 공기밥=1)
    assert pay(client, terminal, 1, "1000").status_code == 201


def test_a_duplicate_that_loses_the_race_to_its_own_first_request_answers_that_payment(app, pos, monkeypatch):
    """The same key sent twice (a POS retrying a slow answer): the second read the open order before the first
    paid it, so it meets the first's sale when it inserts its own. That sale is its payment, not another
    terminal's: it answers it (201, the same sale), never 409 already_paid."""
    terminal = pos()
    terminal.order(8, 김치찌개=1)
    # Each request waits a second after reading the open order; the duplicate starts half a second later.
    monkeypatch.setenv("SALESYNC_FAILPOINT_DELAYS", "sale.after_order_lookup=1000")
    replies = {}

    def attempt(name):
        replies[name] = pay(app.test_client(), terminal, 8, 9000, key="slow-answer")

    first = threading.Thread(target=attempt, args=("first",))
    first.start()
    time.sleep(0.5)
    attempt("duplicate")
    first.join()

    assert replies["first"].status_code == 201, replies["first"].get_json()
    assert replies["duplicate"].status_code == 201, replies["duplicate"].get_json()
    assert replies["duplicate"].get_json()["id"] == replies["first"].get_json()["id"]
    assert len(sales(app.test_client(), terminal)) == 1
