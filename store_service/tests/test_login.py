import jwt
import pytest
from sqlalchemy import text

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


def test_five_failed_logins_lock_the_username_even_for_the_right_password(client, sign_up):
    sign_up()
    for _ in range(5):
        assert client.post("/stores/login", json=WRONG).status_code == 400

    locked = client.post("/stores/login", json=CREDENTIALS)

    assert locked.status_code == 429
    assert 850 <= int(locked.headers["Retry-After"]) <= 900
    assert locked.get_json()["error"] == "login_throttled"


def test_the_lock_is_per_username(client, sign_up):
    sign_up()
    sign_up(username="salesync02")
    for _ in range(5):
        client.post("/stores/login", json=WRONG)

    other = client.post("/stores/login", json={"username": "salesync02", "password": OWNER["password"]})

    assert other.status_code == 200


def test_a_successful_login_forgets_earlier_failures(client, sign_up):
    sign_up()
    for _ in range(4):
        client.post("/stores/login", json=WRONG)
    assert client.post("/stores/login", json=CREDENTIALS).status_code == 200

    for _ in range(4):
        client.post("/stores/login", json=WRONG)

    assert client.post("/stores/login", json=CREDENTIALS).status_code == 200


def test_the_lock_lifts_fifteen_minutes_after_the_failures(app, client, sign_up):
    sign_up()
    for _ in range(5):
        client.post("/stores/login", json=WRONG)
    with app.app_context():
        db.session.execute(text("UPDATE store.login_failures "
                                "SET failed_at = failed_at - interval '15 minutes 1 second'"))
        db.session.commit()

    assert client.post("/stores/login", json=CREDENTIALS).status_code == 200


def test_failed_logins_for_unknown_usernames_are_throttled_too(client):
    for _ in range(5):
        client.post("/stores/login", json={"username": "ghost12345", "password": "x"})
    assert client.post("/stores/login", json={"username": "ghost12345", "password": "x"}).status_code == 429
