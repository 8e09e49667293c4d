import threading
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from sqlalchemy import event, text

from salesync_common.service_auth import CLIENT_ADDRESS_HEADER
from store_service.app.models import db
from testsupport.settings import TEST_JWT_SECRET

from .conftest import OWNER

CREDENTIALS = {"username": OWNER["username"], "password": OWNER["password"]}
WRONG = {"username": OWNER["username"], "password": "Wr0ngPass!!"}


def test_login_returns_token_csrf_token_and_store_id(client, sign_up):
    store_id, _ = sign_up()

    response = client.post("/stores/login", json=CREDENTIALS)

    assert response.status_code == 200
    body = response.get_json()
    assert body["result"] == "success"
    assert body["store_id"] == store_id
    assert body["csrf_token"]
    assert jwt.decode(body["access_token"], TEST_JWT_SECRET, algorithms=["HS256"])["sub"] == str(store_id)
    profile = client.get("/stores/", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert profile.get_json()["store"]["store_id"] == store_id


@pytest.mark.parametrize("credentials", [WRONG, {"username": "nobody0000", "password": OWNER["password"]}],
                         ids=["wrong password", "unknown user"])
def test_bad_credentials_answer_400_without_saying_which_part_was_wrong(client, sign_up, credentials):
    sign_up()

    response = client.post("/stores/login", json=credentials)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_credentials"
    assert "access_token" not in response.get_json()


@pytest.mark.parametrize("body", [{"username": "salesync01"}, {"password": "x"}, {"username": "", "password": "x"},
                                  {"username": 1, "password": "x"}, {"username": "a" * 65, "password": "x"}])
def test_login_with_a_bad_body_is_a_400_naming_the_field(client, body):
    response = client.post("/stores/login", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] in ("username", "password")


def from_address(address):
    """What the BFF sends: the client address it decided (with its service token, which the client adds)."""
    return {CLIENT_ADDRESS_HEADER: address}


def log_in(client, credentials, address="198.51.100.1"):
    return client.post("/stores/login", json=credentials, headers=from_address(address))


def test_five_failed_logins_lock_the_username_from_that_address_even_for_the_right_password(client, sign_up):
    sign_up()
    for _ in range(5):
        assert log_in(client, WRONG).status_code == 400

    locked = log_in(client, CREDENTIALS)

    assert locked.status_code == 429
    assert 850 <= int(locked.headers["Retry-After"]) <= 900
    assert locked.get_json()["error"] == "login_throttled"
    assert locked.get_json()["retry_after"] == int(locked.headers["Retry-After"])


def test_the_owner_still_logs_in_from_another_address_while_an_attacker_is_locked_out(client, sign_up):
    sign_up()
    for _ in range(5):
        log_in(client, WRONG, address="203.0.113.66")
    assert log_in(client, CREDENTIALS, address="203.0.113.66").status_code == 429

    assert log_in(client, CREDENTIALS, address="198.51.100.1").status_code == 200
    assert log_in(client, CREDENTIALS, address="2001:db8::1").status_code == 200


def test_the_lock_is_per_username(client, sign_up):
    sign_up()
    sign_up(username="salesync02")
    for _ in range(5):
        log_in(client, WRONG)

    other = log_in(client, {"username": "salesync02", "password": OWNER["password"]})

    assert other.status_code == 200


def test_twenty_failures_from_one_address_over_any_usernames_refuse_every_login_from_it(client, sign_up):
    sign_up()
    for n in range(20):  # spraying one password over many usernames, four tries each
        assert log_in(client, {"username": f"victim{n // 4:04d}", "password": "Spr4y!ng00"},
                      address="192.0.2.9").status_code == 400

    sprayed = log_in(client, CREDENTIALS, address="192.0.2.9")

    assert sprayed.status_code == 429 and sprayed.get_json()["error"] == "login_throttled"
    assert 850 <= int(sprayed.headers["Retry-After"]) <= 900
    assert log_in(client, CREDENTIALS, address="192.0.2.10").status_code == 200


def test_the_address_is_believed_only_from_the_bff(app, sign_up):
    """Another service (or a caller with a store token) cannot choose the bucket its guesses count in."""
    sign_up()
    other_service = app.test_client(caller="sale")
    for n in range(5):
        other_service.post("/stores/login", json=WRONG, headers=from_address(f"203.0.113.{n}"))

    # All five counted against the caller's own address, not the five it named.
    assert other_service.post("/stores/login", json=CREDENTIALS,
                              headers=from_address("203.0.113.99")).status_code == 429
    assert log_in(app.test_client(), CREDENTIALS, address="203.0.113.1").status_code == 200


def test_ten_guesses_at_once_cannot_all_be_tried(app, sign_up):
    sign_up()
    start = threading.Barrier(10)

    def guess(_):
        client = app.test_client()
        start.wait()
        return log_in(client, WRONG).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(guess, range(10)))

    assert statuses == [400] * 5 + [429] * 5
    assert log_in(app.test_client(), CREDENTIALS).status_code == 429


def test_a_successful_login_forgets_earlier_failures(client, sign_up):
    sign_up()
    for _ in range(4):
        log_in(client, WRONG)
    assert log_in(client, CREDENTIALS).status_code == 200

    for _ in range(4):
        log_in(client, WRONG)

    assert log_in(client, CREDENTIALS).status_code == 200


def test_the_lock_lifts_fifteen_minutes_after_the_failures(app, client, sign_up):
    sign_up()
    for _ in range(5):
        log_in(client, WRONG)
    with app.app_context():
        db.session.execute(text("UPDATE store.login_failures "
                                "SET failed_at = failed_at - interval '15 minutes 1 second'"))
        db.session.commit()

    assert log_in(client, CREDENTIALS).status_code == 200


def test_failed_logins_for_unknown_usernames_are_throttled_too(client):
    for _ in range(5):
        log_in(client, {"username": "ghost12345", "password": "x"})
    assert log_in(client, {"username": "ghost12345", "password": "x"}).status_code == 429


@pytest.fixture
def short_lock_timeout(app):
    """The app's connections give up waiting for a lock after 200 ms (5 s in service)."""
    with app.app_context():
        engine = db.engine

    def shorten(dbapi_connection, record, proxy):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")

    event.listen(engine, "checkout", shorten)
    yield
    event.remove(engine, "checkout", shorten)
    engine.dispose()  # the pooled connections keep the short timeout


@pytest.fixture
def lock_held(app):
    """Another request of the same address holds its lock, as a flood of them would."""
    holders = []

    def hold(key):
        with app.app_context():
            holder = db.engine.connect()
        holder.execute(text("SELECT pg_advisory_lock(hashtextextended(:key, 0))"), {"key": key})
        holders.append(holder)

    yield hold
    for holder in holders:
        holder.execute(text("SELECT pg_advisory_unlock_all()"))
        holder.close()


def assert_busy(response):
    assert response.status_code == 503, response.get_json()
    assert response.headers["Retry-After"] == "1"
    body = response.get_json()
    assert body["result"] == "failed" and body["error"] == "auth_busy" and body["message"]


def test_a_login_that_cannot_get_its_addresss_lock_in_time_is_a_503_not_a_500(
        app, client, sign_up, short_lock_timeout, lock_held):
    sign_up()
    lock_held("login:198.51.100.77")

    assert_busy(log_in(client, WRONG, address="198.51.100.77"))
    assert_busy(log_in(client, CREDENTIALS, address="198.51.100.77"))

    assert log_in(client, CREDENTIALS, address="198.51.100.78").status_code == 200
    with app.app_context():  # the refused attempts were not counted
        assert db.session.execute(text("SELECT count(*) FROM store.login_failures")).scalar() == 0


def test_a_password_check_or_sign_up_that_cannot_get_its_lock_in_time_is_a_503(
        app, client, sign_up, short_lock_timeout, lock_held):
    store_id, headers = sign_up()
    lock_held(f"pwcheck:{store_id}:198.51.100.77")
    lock_held("signup:198.51.100.77")

    assert_busy(client.post("/stores/pwcheck", json={"password": OWNER["password"]},
                            headers={**headers, **from_address("198.51.100.77")}))
    assert_busy(client.post("/stores/", json={**OWNER, "username": "flooder01"}, headers=from_address("198.51.100.77")))
    assert client.get("/stores/check", query_string={"username": "flooder01"}).get_json()["result"] == "success"
