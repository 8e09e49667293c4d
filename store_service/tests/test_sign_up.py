import dataclasses
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from sqlalchemy import func, select, text

from salesync_common.service_auth import CLIENT_ADDRESS_HEADER
from salesync_common.settings import Settings
from store_service.app.models import Store, db
from testsupport.settings import TEST_JWT_SECRET

from .conftest import OWNER

TOO_LONG = "A" * 301


def username_is_taken(client, username=OWNER["username"]):
    return client.get("/stores/check", query_string={"username": username}).get_json()["result"] == "failed"


def test_sign_up_returns_a_token_that_opens_the_new_store(client):
    response = client.post("/stores/", json=OWNER)

    assert response.status_code == 201
    body = response.get_json()
    assert body["result"] == "success" and body["message"] == "매장 등록 성공"
    assert isinstance(body["store_id"], int)
    assert body["token"]["csrf_token"]
    claims = jwt.decode(body["token"]["access_token"], TEST_JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == str(body["store_id"])
    assert claims["exp"] - claims["iat"] == 24 * 3600

    profile = client.get("/stores/", headers={"Authorization": f"Bearer {body['token']['access_token']}"})
    assert profile.get_json()["store"] == {
        "store_id": body["store_id"], "username": "salesync01", "owner_name": "홍길동",
        "phone": "01012345678", "store_name": "피자가게", "address": OWNER["address"],
        "store_type": "일반음식점", "time_zone": "Asia/Seoul",
    }


def test_the_password_is_not_stored_in_plain_text(app, client):
    client.post("/stores/", json=OWNER)
    with app.app_context():
        stored = db.session.query(Store).one()
        assert OWNER["password"] not in stored.password_hash
        assert stored.password_hash.startswith("$2b$")


def test_a_taken_username_answers_409_and_keeps_the_first_store(client, sign_up):
    store_id, headers = sign_up()

    response = client.post("/stores/", json={**OWNER, "store_name": "다른가게"})

    assert response.status_code == 409
    assert response.get_json()["error"] == "username_taken"
    assert client.get("/stores/", headers=headers).get_json()["store"]["store_name"] == "피자가게"


def test_two_sign_ups_racing_for_one_username_create_one_store(app):
    barrier = threading.Barrier(4)
    statuses = []

    def attempt(n):
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/stores/", json={**OWNER, "store_name": f"가게{n}"}).status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 409, 409, 409]


def test_a_store_can_choose_its_time_zone(client):
    response = client.post("/stores/", json={**OWNER, "time_zone": "America/New_York"})
    token = response.get_json()["token"]["access_token"]
    store = client.get("/stores/", headers={"Authorization": f"Bearer {token}"}).get_json()["store"]
    assert store["time_zone"] == "America/New_York"


BAD_FIELDS = [
    # (field, value, why)
    ("username", "short1", "shorter than 8"),
    ("username", "a" * 17, "longer than 16"),
    ("username", "hello_world1", "not letters and digits"),
    ("username", 12345678, "not a string"),
    ("username", "", "empty"),
    ("password", "Sh0rt!", "shorter than 10"),
    ("password", "Passw0rd!23Passw0rd", "longer than 16"),
    ("password", "password!23", "no upper-case letter"),
    ("password", "PASSWORD!23", "no lower-case letter"),
    ("password", "Password!!!", "no digit"),
    ("password", "Password123", "no symbol"),
    ("password", "Passw0rd 23!", "a space"),
    ("password", None, "null"),
    ("owner_name", "홍", "shorter than 2"),
    ("owner_name", "홍" * 21, "longer than 20"),
    ("owner_name", "홍길동1", "a digit"),
    ("owner_name", ["홍길동"], "a list"),
    ("phone", "0101234567", "10 digits"),
    ("phone", "010123456789", "12 digits"),
    ("phone", "010-1234-567", "dashes"),
    ("phone", 1012345678, "a number"),
    ("store_name", "", "empty"),
    ("store_name", "   ", "only spaces"),
    ("store_name", TOO_LONG, "too long"),
    ("store_name", "피자\x00가게", "a NUL character"),
    ("store_name", "피자\u200b가게", "a zero-width space"),
    ("store_name", "\u202e게가자피", "a right-to-left override"),
    ("store_name", "피자\u2067가게\u2069", "a bidi isolate"),
    ("store_name", "피자\x1b[31m가게", "an escape (control) character"),
    ("store_name", "피자\u3164", "a hangul filler (look-alike of 피자)"),
    ("store_name", "\u3164", "only a hangul filler"),
    ("store_name", "피자\u115f가게", "a hangul choseong filler"),
    ("store_name", "피자\u1160가게", "a hangul jungseong filler"),
    ("store_name", "피자\uffa0", "a halfwidth hangul filler"),
    ("store_name", "피자\u034f가게", "a combining grapheme joiner"),
    ("store_name", "피자\ufe0f", "a variation selector"),
    ("store_name", "피자\U000e0100", "a supplementary variation selector"),
    ("store_name", "피자\U000e0041", "a tag character"),
    ("store_name", "\u2800", "only a braille blank"),
    ("store_name", "\u3000\u00a0", "only wide and no-break spaces"),
    ("owner_name", "홍\u200d길동", "a zero-width joiner"),
    ("owner_name", "홍길동\u3164", "a hangul filler"),
    ("owner_name", "\u202e동길홍", "a right-to-left override"),
    ("address", "", "empty"),
    ("address", TOO_LONG, "too long"),
    ("address", {"city": "서울"}, "an object"),
    ("store_type", "편의점", "not a known type"),
    ("store_type", "", "empty"),
    ("time_zone", "Mars/Olympus", "unknown zone"),
]


@pytest.mark.parametrize("field,value,why", BAD_FIELDS, ids=[f"{f}-{w}" for f, _, w in BAD_FIELDS])
def test_sign_up_refuses_a_bad_field_and_names_it(client, field, value, why):
    response = client.post("/stores/", json={**OWNER, field: value})

    assert response.status_code == 400, why
    body = response.get_json()
    assert body["field"] == field
    assert field in body["message"]
    assert not username_is_taken(client)


def test_names_typed_decomposed_are_stored_composed(client):
    jamo_owner, decomposed_store = unicodedata.normalize("NFD", "홍길동"), "Cafe\u0301 피자"
    response = client.post("/stores/", json={**OWNER, "owner_name": jamo_owner, "store_name": decomposed_store})

    assert response.status_code == 201, response.get_json()
    token = response.get_json()["token"]["access_token"]
    store = client.get("/stores/", headers={"Authorization": f"Bearer {token}"}).get_json()["store"]
    assert (store["owner_name"], store["store_name"]) == ("홍길동", "Café 피자")


@pytest.mark.parametrize("field", ["username", "password", "owner_name", "phone", "store_name", "address",
                                   "store_type"])
def test_sign_up_refuses_a_missing_field(client, field):
    body = {k: v for k, v in OWNER.items() if k != field}

    response = client.post("/stores/", json=body)

    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert response.get_json()["error"] == "missing_field"


@pytest.mark.parametrize("data,content_type,status", [
    ('{"username": "salesync01",', "application/json", 400),
    ("[]", "application/json", 400),
    ('"text"', "application/json", 400),
    ("", "application/json", 400),
    ("username=salesync01", "application/x-www-form-urlencoded", 415),
    ('{"username": "salesync01"}', "text/plain", 415),
])
def test_sign_up_refuses_a_body_that_is_not_a_json_object(client, data, content_type, status):
    response = client.post("/stores/", data=data, content_type=content_type)
    assert response.status_code == status
    assert not username_is_taken(client)


def test_username_check_tells_taken_from_free(client, sign_up):
    sign_up()

    taken = client.get("/stores/check?username=salesync01").get_json()
    free = client.get("/stores/check?username=salesync02").get_json()

    assert taken == {"result": "failed", "message": "이미 존재하는 아이디입니다."}
    assert free == {"result": "success", "message": "사용 가능한 아이디입니다."}


@pytest.mark.parametrize("query", ["", "?username=", "?user=salesync01", "?username=" + "a" * 65])
def test_username_check_without_a_username_is_a_400(client, query):
    response = client.get("/stores/check" + query)
    assert response.status_code == 400
    assert response.get_json()["field"] == "username"


@pytest.fixture
def default_sign_up_limit(app, monkeypatch):
    """The store service as deployed: test sessions raise the sign-up limit (testsupport.settings.TEST_ENV)."""
    settings = app.extensions["salesync_settings"]
    deployed = Settings.from_env("store", env={"SALESYNC_JWT_SECRET": TEST_JWT_SECRET})
    assert (deployed.signup_max_per_address, deployed.signup_window_seconds) == (10, 3600)
    monkeypatch.setitem(app.extensions, "salesync_settings", dataclasses.replace(
        settings, signup_max_per_address=deployed.signup_max_per_address,
        signup_window_seconds=deployed.signup_window_seconds))


def username_for(address, n):
    return f"limit{address.replace('.', '')[-6:]}{n:03d}"


def sign_up_from(client, address, n):
    form = {**OWNER, "username": username_for(address, n)}
    return client.post("/stores/", json=form, headers={CLIENT_ADDRESS_HEADER: address})


def test_the_eleventh_sign_up_from_one_address_within_an_hour_is_429_while_another_address_signs_up(
        app, client, default_sign_up_limit):
    for n in range(10):
        assert sign_up_from(client, "198.51.100.7", n).status_code == 201

    refused = sign_up_from(client, "198.51.100.7", 10)

    assert refused.status_code == 429
    body = refused.get_json()
    assert body["result"] == "failed" and body["error"] == "signup_throttled"
    assert body["message"] == "이 주소에서는 60분 동안 매장을 10개까지 등록할 수 있습니다. 잠시 후 다시 시도하세요."
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3600
    assert not username_is_taken(client, username_for("198.51.100.7", 10))
    assert sign_up_from(client, "198.51.100.8", 0).status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Store)) == 11


def test_the_sign_up_limit_counts_only_sign_ups_that_went_through_and_lifts_with_the_window(
        app, client, default_sign_up_limit):
    for n in range(9):
        assert sign_up_from(client, "198.51.100.9", n).status_code == 201
    for _ in range(3):  # a taken username is no sign-up
        assert sign_up_from(client, "198.51.100.9", 0).status_code == 409
    assert sign_up_from(client, "198.51.100.9", 9).status_code == 201
    assert sign_up_from(client, "198.51.100.9", 10).status_code == 429

    with app.app_context():  # the oldest leaves the window: one more may sign up, and the next waits for the second
        db.session.execute(text("UPDATE store.sign_ups SET signed_up_at = now() - interval '3601 seconds' "
                                "WHERE id = (SELECT min(id) FROM store.sign_ups)"))
        db.session.execute(text("UPDATE store.sign_ups SET signed_up_at = now() - interval '3500 seconds' "
                                "WHERE id = (SELECT min(id) + 1 FROM store.sign_ups)"))
        db.session.commit()
    assert sign_up_from(client, "198.51.100.9", 10).status_code == 201
    refused = sign_up_from(client, "198.51.100.9", 11)
    assert refused.status_code == 429 and 95 <= int(refused.headers["Retry-After"]) <= 100


def test_ten_sign_ups_at_once_from_one_address_cannot_pass_the_limit(app, default_sign_up_limit):
    start = threading.Barrier(14)

    def attempt(n):
        client = app.test_client()
        start.wait()
        return sign_up_from(client, "198.51.100.10", n).status_code

    with ThreadPoolExecutor(max_workers=14) as pool:
        statuses = sorted(pool.map(attempt, range(14)))

    assert statuses == [201] * 10 + [429] * 4


def test_the_address_of_a_sign_up_is_believed_only_from_the_bff(app, default_sign_up_limit):
    other_service = app.test_client(caller="sale")
    for n in range(10):
        assert sign_up_from(other_service, f"203.0.113.{n}", n).status_code == 201
    # All ten counted against the caller's own address, not the ones it named.
    assert sign_up_from(other_service, "203.0.113.99", 99).status_code == 429
    assert sign_up_from(app.test_client(), "203.0.113.1", 100).status_code == 201
