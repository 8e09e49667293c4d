import threading

import psycopg2

from salesync_common import purge
from testsupport.postgres import libpq_url
from testsupport.settings import settings_for_tests

from .test_orders import order, table


def keyed(headers, key):
    return {**headers, "Idempotency-Key": key}


def test_a_retried_order_with_the_same_key_is_placed_once_and_answered_the_same(client, shop):
    headers, items = shop
    first = order(client, keyed(headers, "order-1"), 2, [(items["아메리카노"], 1)])
    again = order(client, keyed(headers, "order-1"), 2, [(items["아메리카노"], 1)])

    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get("/orders/unpaids", headers=headers).get_json()["orders"]) == 1


def test_the_same_key_with_a_different_body_is_a_422(client, shop):
    headers, items = shop
    order(client, keyed(headers, "k"), 2, [(items["아메리카노"], 1)])

    reused = order(client, keyed(headers, "k"), 2, [(items["아메리카노"], 5)], method="PUT")

    assert reused.status_code == 422
    assert reused.get_json()["error"] == "idempotency_key_reused"
    assert table(client, headers, 2)["total_price"] == 4500


def test_keys_belong_to_one_store(client, shop, new_store, build_menu):
    headers, items = shop
    _, other = new_store()
    other_items = build_menu(other)
    order(client, keyed(headers, "shared-key"), 1, [(items["아메리카노"], 1)])

    theirs = order(client, keyed(other, "shared-key"), 1, [(other_items["카페라떼"], 1)])

    assert theirs.status_code == 200 and "Idempotent-Replayed" not in theirs.headers
    assert table(client, other, 1)["total_price"] == 5000


def test_a_refused_request_does_not_use_up_its_key(client, shop):
    headers, items = shop
    assert order(client, keyed(headers, "retry-me"), 1, [(999999, 1)]).status_code == 404
    assert order(client, keyed(headers, "retry-me"), 1, [(999999, 1)]).status_code == 404
    assert order(client, keyed(headers, "retry-me2"), 1, [(items["아메리카노"], 1)]).status_code == 200


def test_a_duplicate_while_the_first_is_still_running_is_a_409(app, client, shop, database_url):
    headers, items = shop
    store_id = client.get("/orders/unpaids", headers=headers).get_json()["store_id"]
    body = {"table_no": 4, "carts": [{"item_id": items["아메리카노"], "quantity": 1}]}
    # The first request holds the key row in its open transaction.
    first = psycopg2.connect(libpq_url(database_url))
    try:
        with first.cursor() as cursor:
            cursor.execute('INSERT INTO "order".idempotency_keys (store_id, key, request_hash) VALUES (%s, %s, %s)',
                           (store_id, "busy", "x" * 64))
        duplicate = client.post("/orders/", json=body, headers=keyed(headers, "busy"))
    finally:
        first.rollback()
        first.close()

    assert duplicate.status_code == 409
    assert duplicate.get_json()["error"] == "idempotency_in_progress"
    assert table(client, headers, 4)["carts"] == []


def test_concurrent_duplicates_place_one_order(app, shop):
    headers, items = shop
    barrier = threading.Barrier(4)
    replies = []

    def attempt():
        client = app.test_client()
        barrier.wait()
        replies.append(order(client, keyed(headers, "same"), 6, [(items["카페라떼"], 2)]))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert {r.status_code for r in replies} <= {200, 409}
    successes = [r.get_json() for r in replies if r.status_code == 200]
    assert successes and all(s == successes[0] for s in successes)
    assert len(app.test_client().get("/orders/unpaids", headers=headers).get_json()["orders"]) == 1


def test_an_invalid_key_is_a_400(client, shop):
    headers, items = shop
    response = order(client, keyed(headers, "x" * 256), 1, [(items["아메리카노"], 1)])
    assert response.status_code == 400
    assert response.get_json()["field"] == "Idempotency-Key"


def test_keys_older_than_a_day_are_purged(client, shop, database_url):
    headers, items = shop
    order(client, keyed(headers, "old-key"), 1, [(items["아메리카노"], 1)])
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("""UPDATE "order".idempotency_keys SET created_at = now() - interval '25 hours'
                          WHERE key = 'old-key'""")
    order(client, keyed(headers, "new-key"), 2, [(items["아메리카노"], 1)])

    purge.purge_service("order", settings_for_tests("order", database_url))

    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute('SELECT key FROM "order".idempotency_keys WHERE key IN (%s, %s)', ("old-key", "new-key"))
        assert [row[0] for row in cursor.fetchall()] == ["new-key"]
    # The purged key is free again: the same key now places a new order.
    again = order(client, keyed(headers, "old-key"), 3, [(items["아메리카노"], 1)])
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers


def test_keyed_orders_go_through_while_the_purge_deletes_old_keys(client, shop, database_url):
    headers, items = shop
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("""INSERT INTO "order".idempotency_keys (store_id, key, request_hash, created_at)
                          SELECT 0, 'stale-' || n, 'h', now() - interval '2 days' FROM generate_series(1, 20000) n""")
    purged = {}
    purging = threading.Thread(target=lambda: purged.update(
        purge.purge_service("order", settings_for_tests("order", database_url, purge_batch_size=200))))

    purging.start()
    answers = []
    while purging.is_alive() and len(answers) < 90:  # one table each: a second POST to a table is a 409
        answers.append((order(client, keyed(headers, f"live-{len(answers)}"), len(answers) + 1,
                              [(items["아메리카노"], 1)]).status_code, purging.is_alive()))
    purging.join()

    assert purged["order.idempotency_keys"] >= 20000
    assert [status for status, _ in answers if status != 200] == []
    assert any(still_purging for _, still_purging in answers)  # at least one answered while the purge ran


def test_a_keyed_order_nested_thousands_deep_is_a_400_and_keeps_the_key(client, shop):
    # The key's fingerprint parses the body with Flask's own parser, which recursed until a RecursionError (500).
    headers, items = shop
    deep = '{"table_no": 1, "carts": ' + "[" * 5000 + "]" * 5000 + "}"
    response = client.post("/orders/", data=deep, content_type="application/json", headers=keyed(headers, "deep"))

    assert response.status_code == 400 and response.get_json()["error"] == "json_too_deep"
    assert order(client, keyed(headers, "deep"), 1, [(items["아메리카노"], 1)]).status_code == 200
