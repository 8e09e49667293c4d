import threading
import unicodedata

import jwt
import pytest

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
