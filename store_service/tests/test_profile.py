import threading
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from sqlalchemy import text

from salesync_common.service_auth import CLIENT_ADDRESS_HEADER
from salesync_common.tokens import issue_token
from store_service.app.models import db
from testsupport.settings import TEST_JWT_SECRET

from .conftest import OWNER

NEW_PASSWORD = "N3wPassw0rd!"


def forged(store_id, **changes):
    now = int(time.time())
    claims = {"sub": str(store_id), "iat": now, "exp": now + 600, **changes}
    return jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")


def bad_authorizations(store_id):
    good = issue_token(store_id=store_id, secret=TEST_JWT_SECRET, ttl_seconds=600)
    header, payload, signature = good.split(".")
    other_payload = jwt.utils.base64url_encode(b'{"sub":"999","iat":1,"exp":9999999999}').decode()
    unsigned = jwt.encode({"sub": str(store_id), "iat": 1, "exp": 9999999999}, None, algorithm="none")
    return {
        "no header": None,
        "Bearer null": "Bearer null",
        "Bearer undefined": "Bearer undefined",
        "no Bearer prefix": good,
        "Basic scheme": "Basic c2FsZXN5bmM6cGFzcw==",
        "garbage": "Bearer not.a.jwt",
        "wrong secret": "Bearer " + jwt.encode({"sub": str(store_id), "iat": 1, "exp": 9999999999},
                                                "x" * 48, algorithm="HS256"),
        "tampered payload": f"Bearer {header}.{other_payload}.{signature}",
        "alg none": f"Bearer {unsigned}",
        "expired": "Bearer " + issue_token(store_id=store_id, secret=TEST_JWT_SECRET, ttl_seconds=60,
                                           now=time.time() - 3600),
        "integer sub": "Bearer " + forged(store_id, sub=store_id),
        "no exp": "Bearer " + jwt.encode({"sub": str(store_id), "iat": 1}, TEST_JWT_SECRET, algorithm="HS256"),
        "deleted store": "Bearer " + forged(store_id + 1000),
    }


PROTECTED = [
    ("GET", "/stores/", None),
    ("POST", "/stores/pwcheck", {"password": OWNER["password"]}),
    ("PUT", "/stores/{store_id}", {"password": NEW_PASSWORD}),
    ("GET", "/internal/stores/me", None),
]
CASES = ["no header", "Bearer null", "Bearer undefined", "no Bearer prefix", "Basic scheme", "garbage",
         "wrong secret", "tampered payload", "alg none", "expired", "integer sub", "no exp", "deleted store"]


@pytest.mark.parametrize("method,path,body", PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED])
@pytest.mark.parametrize("case", CASES)
def test_every_protected_route_answers_401_to_a_bad_token(client, sign_up, method, path, body, case):
    store_id, _ = sign_up()
    authorization = bad_authorizations(store_id)[case]
    headers = {"Authorization": authorization} if authorization else {}

    response = client.open(path.format(store_id=store_id), method=method, json=body, headers=headers)

    assert response.status_code == 401, case
    # Nothing changed: the original password still logs in.
    assert client.post("/stores/login", json={"username": OWNER["username"],
                                              "password": OWNER["password"]}).status_code == 200


def test_the_csrf_header_is_accepted_and_never_required(client, sign_up):
    _, headers = sign_up()
    assert client.get("/stores/", headers={**headers, "X-CSRF-Token": "anything"}).status_code == 200
    assert client.get("/stores/", headers=headers).status_code == 200


def test_password_check_says_whether_the_password_matches(client, sign_up):
    _, headers = sign_up()

    right = client.post("/stores/pwcheck", json={"password": OWNER["password"]}, headers=headers)
    wrong = client.post("/stores/pwcheck", json={"password": "Wr0ngPass!!"}, headers=headers)

    assert right.get_json() == {"result": "success", "message": "비밀번호가 일치합니다."}
    assert wrong.get_json() == {"result": "failed", "message": "비밀번호가 일치하지 않습니다."}


@pytest.mark.parametrize("body", [{}, {"password": ""}, {"password": 1234}, {"pw": "x"}])
def test_password_check_with_a_bad_body_is_a_400(client, sign_up, body):
    _, headers = sign_up()
    assert client.post("/stores/pwcheck", json=body, headers=headers).status_code == 400


def login_status(client, password, username=OWNER["username"]):
    return client.post("/stores/login", json={"username": username, "password": password}).status_code


def prove(client, headers, password=OWNER["password"]):
    """What the POS's InfoPage does before InfoNpwPage changes the password (API.md §12)."""
    assert client.post("/stores/pwcheck", json={"password": password}, headers=headers).get_json() == {
        "result": "success", "message": "비밀번호가 일치합니다."}


def test_owner_changes_own_password(client, sign_up):
    store_id, headers = sign_up()
    prove(client, headers)

    response = client.put(f"/stores/{store_id}", json={"password": NEW_PASSWORD}, headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"store_id": store_id, "result": "success", "message": "매장 정보 수정 성공"}
    assert login_status(client, NEW_PASSWORD) == 200
    assert login_status(client, OWNER["password"]) == 400


def test_extra_fields_sent_with_the_new_password_are_ignored(client, sign_up):
    store_id, headers = sign_up()
    body = {**OWNER, "password": NEW_PASSWORD, "store_name": "바뀐이름"}
    prove(client, headers)

    assert client.put(f"/stores/{store_id}", json=body, headers=headers).status_code == 200
    assert client.get("/stores/", headers=headers).get_json()["store"]["store_name"] == "피자가게"


def test_a_store_cannot_change_another_stores_password(client, sign_up):
    victim_id, _ = sign_up()
    _, attacker = sign_up(username="attacker01")

    response = client.put(f"/stores/{victim_id}", json={"password": NEW_PASSWORD}, headers=attacker)

    assert response.status_code == 403
    assert login_status(client, OWNER["password"]) == 200
    assert login_status(client, NEW_PASSWORD) == 400


def test_changing_an_unknown_store_id_is_refused_like_any_other_id(client, sign_up):
    store_id, headers = sign_up()
    assert client.put(f"/stores/{store_id + 50}", json={"password": NEW_PASSWORD}, headers=headers).status_code == 403
    assert client.put("/stores/abc", json={"password": NEW_PASSWORD}, headers=headers).status_code == 404


@pytest.mark.parametrize("body", [{}, {"password": "weak"}, {"password": "nouppercase1!"}, {"password": 12345678901},
                                  {"time_zone": "Nowhere/City"}])
def test_a_bad_new_password_is_refused_and_the_old_one_kept(client, sign_up, body):
    store_id, headers = sign_up()

    response = client.put(f"/stores/{store_id}", json=body, headers=headers)

    assert response.status_code == 400
    assert login_status(client, OWNER["password"]) == 200


def test_owner_changes_the_time_zone(client, sign_up):
    store_id, headers = sign_up()

    client.put(f"/stores/{store_id}", json={"time_zone": "Asia/Tokyo"}, headers=headers)

    assert client.get("/stores/", headers=headers).get_json()["store"]["time_zone"] == "Asia/Tokyo"
    assert login_status(client, OWNER["password"]) == 200


def test_other_services_read_the_callers_profile_with_the_forwarded_token(client, sign_up):
    first_id, first = sign_up()
    second_id, second = sign_up(username="salesync02", store_name="카페", phone="01099998888")

    mine = client.get("/internal/stores/me", headers=first).get_json()
    theirs = client.get("/internal/stores/me", headers=second).get_json()

    assert mine == {"store_id": first_id, "store_name": "피자가게", "owner_name": "홍길동",
                    "phone": "01012345678", "time_zone": "Asia/Seoul"}
    assert theirs["store_id"] == second_id and theirs["store_name"] == "카페"


@pytest.mark.parametrize("method,path", [("GET", "/stores/all"), ("DELETE", "/stores/1")])
def test_the_old_unauthenticated_admin_routes_are_gone(client, sign_up, method, path):
    sign_up()
    response = client.open(path, method=method)
    assert response.status_code in (404, 405)
    assert login_status(client, OWNER["password"]) == 200


def check(client, headers, password, address="198.51.100.1"):
    return client.post("/stores/pwcheck", json={"password": password},
                       headers={**headers, CLIENT_ADDRESS_HEADER: address})


def test_five_wrong_password_checks_from_one_address_answer_429_for_that_store_and_address(client, sign_up):
    _, headers = sign_up()
    for _ in range(5):
        assert check(client, headers, "Wr0ngPass!!").get_json()["result"] == "failed"

    refused = check(client, headers, OWNER["password"])

    assert refused.status_code == 429 and refused.get_json()["error"] == "pwcheck_throttled"
    assert 850 <= int(refused.headers["Retry-After"]) <= 900
    assert check(client, headers, OWNER["password"], address="198.51.100.2").get_json()["result"] == "success"


def test_a_right_password_check_forgets_the_wrong_ones(client, sign_up):
    _, headers = sign_up()
    for _ in range(4):
        check(client, headers, "Wr0ngPass!!")
    assert check(client, headers, OWNER["password"]).get_json()["result"] == "success"
    for _ in range(4):
        check(client, headers, "Wr0ngPass!!")
    assert check(client, headers, OWNER["password"]).status_code == 200


def test_ten_password_checks_at_once_cannot_all_be_tried(app, sign_up):
    _, headers = sign_up()
    start = threading.Barrier(10)

    def guess(_):
        client = app.test_client()
        start.wait()
        return check(client, headers, "Wr0ngPass!!").status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(guess, range(10)))

    assert statuses == [200] * 5 + [429] * 5


def test_a_password_change_ends_every_older_token_of_the_store_but_the_one_that_made_it(client, sign_up):
    store_id, changer = sign_up()
    stolen = {"Authorization": "Bearer " + issue_token(store_id=store_id, secret=TEST_JWT_SECRET, ttl_seconds=600,
                                                       now=time.time() - 5)}
    assert client.get("/stores/", headers=stolen).status_code == 200
    prove(client, changer)

    assert client.put(f"/stores/{store_id}", json={"password": NEW_PASSWORD}, headers=changer).status_code == 200

    for method, path, body in PROTECTED:
        response = client.open(path.format(store_id=store_id), method=method, json=body, headers=stolen)
        assert response.status_code == 401 and response.get_json()["error"] == "session_ended", (method, path)
    assert client.get("/stores/", headers=changer).status_code == 200  # the POS's home screen still works
    assert client.get("/internal/stores/me", headers=changer).status_code == 200
    fresh = client.post("/stores/login", json={"username": OWNER["username"], "password": NEW_PASSWORD})
    assert client.get("/stores/", headers={"Authorization": f"Bearer {fresh.get_json()['access_token']}"}
                      ).status_code == 200


def test_the_bff_reads_a_stores_password_change_record_and_no_other_service_may(app, client, sign_up):
    store_id, changer = sign_up()
    assert client.get(f"/internal/stores/{store_id}/password-change").get_json() == {
        "store_id": store_id, "changed_at": None, "changed_by": None}
    prove(client, changer)
    client.put(f"/stores/{store_id}", json={"password": NEW_PASSWORD}, headers=changer)
    jti = jwt.decode(changer["Authorization"][7:], TEST_JWT_SECRET, algorithms=["HS256"])["jti"]

    record = client.get(f"/internal/stores/{store_id}/password-change").get_json()

    assert record["changed_by"] == jti and abs(record["changed_at"] - time.time()) < 60
    assert app.test_client(caller="sale").get(f"/internal/stores/{store_id}/password-change").status_code == 403
    assert client.get("/internal/stores/999999/password-change").status_code == 404


def second_token(client):
    """Another session of the store, as a thief who stole a token would hold."""
    body = client.post("/stores/login", json={"username": OWNER["username"], "password": OWNER["password"]}
                       ).get_json()
    return {"Authorization": f"Bearer {body['access_token']}"}


def change_password(client, store_id, headers):
    return client.put(f"/stores/{store_id}", json={"password": NEW_PASSWORD}, headers=headers)


def assert_password_check_required(response):
    assert response.status_code == 403, response.get_json()
    body = response.get_json()
    assert body["result"] == "failed" and body["error"] == "password_check_required"
    assert body["message"] == "비밀번호를 바꾸려면 먼저 현재 비밀번호를 확인하세요."


def test_a_stolen_token_cannot_change_the_password_without_the_current_one(client, sign_up):
    store_id, owner = sign_up()
    thief = second_token(client)

    assert_password_check_required(change_password(client, store_id, thief))
    assert check(client, thief, "Wr0ngPass!!").get_json()["result"] == "failed"
    assert_password_check_required(change_password(client, store_id, thief))
    prove(client, owner)  # the owner's proof is the owner token's alone
    assert_password_check_required(change_password(client, store_id, thief))

    assert login_status(client, OWNER["password"]) == 200 and login_status(client, NEW_PASSWORD) == 400
    assert client.get("/stores/", headers=owner).status_code == 200


def test_the_proof_is_used_up_by_the_change(client, sign_up):
    store_id, headers = sign_up()
    prove(client, headers)
    assert change_password(client, store_id, headers).status_code == 200

    again = client.put(f"/stores/{store_id}", json={"password": "Th1rdPassw0rd!"}, headers=headers)

    assert_password_check_required(again)
    assert login_status(client, NEW_PASSWORD) == 200
    prove(client, headers, NEW_PASSWORD)
    assert client.put(f"/stores/{store_id}", json={"password": "Th1rdPassw0rd!"}, headers=headers).status_code == 200
    assert login_status(client, "Th1rdPassw0rd!") == 200


def test_a_proof_older_than_ten_minutes_no_longer_counts(app, client, sign_up):
    store_id, headers = sign_up()
    prove(client, headers)
    with app.app_context():
        db.session.execute(text("UPDATE store.password_proofs SET proved_at = now() - interval '601 seconds'"))
        db.session.commit()

    assert_password_check_required(change_password(client, store_id, headers))

    with app.app_context():
        db.session.execute(text("UPDATE store.password_proofs SET proved_at = now() - interval '590 seconds'"))
        db.session.commit()
    assert change_password(client, store_id, headers).status_code == 200


def test_a_time_zone_change_needs_no_password_check(client, sign_up):
    store_id, headers = sign_up()

    response = client.put(f"/stores/{store_id}", json={"time_zone": "Asia/Tokyo"}, headers=headers)

    assert response.status_code == 200
    assert client.get("/stores/", headers=headers).get_json()["store"]["time_zone"] == "Asia/Tokyo"
    assert_password_check_required(client.put(f"/stores/{store_id}", json={"time_zone": "Asia/Seoul",
                                                                          "password": NEW_PASSWORD}, headers=headers))
    assert client.get("/stores/", headers=headers).get_json()["store"]["time_zone"] == "Asia/Tokyo"
