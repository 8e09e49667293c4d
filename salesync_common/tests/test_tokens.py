import time

import jwt
import pytest
from flask import Flask, g

from salesync_common import init_service
from salesync_common.errors import Unauthorized
from salesync_common.tokens import issue_token, login_required, verify_token
from testsupport.settings import TEST_JWT_SECRET, settings_for_tests

SECRET = "k" * 64


def test_a_token_carries_the_store_id_as_a_string_sub_and_expires():
    token = issue_token(store_id=42, secret=SECRET, ttl_seconds=3600)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "42"
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert verify_token(token, secret=SECRET) == 42


def test_two_tokens_for_one_store_differ():
    first = issue_token(store_id=1, secret=SECRET, ttl_seconds=60)
    assert first != issue_token(store_id=1, secret=SECRET, ttl_seconds=60)


@pytest.mark.parametrize("token,error", [
    ("", "missing_token"),
    ("null", "missing_token"),
    ("a.b.c", "invalid_token"),
    (jwt.encode({"sub": "1", "iat": 1, "exp": 9999999999}, "w" * 48, algorithm="HS256"), "invalid_token"),
    (jwt.encode({"sub": "1", "iat": 1, "exp": 9999999999}, None, algorithm="none"), "invalid_token"),
    (jwt.encode({"sub": "1", "iat": 1, "exp": 9999999999}, SECRET, algorithm="HS512"), "invalid_token"),
    (jwt.encode({"sub": "abc", "iat": 1, "exp": 9999999999}, SECRET, algorithm="HS256"), "invalid_token"),
    (jwt.encode({"sub": "0", "iat": 1, "exp": 9999999999}, SECRET, algorithm="HS256"), "invalid_token"),
    (jwt.encode({"iat": 1, "exp": 9999999999}, SECRET, algorithm="HS256"), "invalid_token"),
    (issue_token(store_id=1, secret=SECRET, ttl_seconds=60, now=time.time() - 120), "token_expired"),
], ids=["empty", "null", "garbage", "wrong secret", "alg none", "other algorithm", "non-numeric sub",
        "zero sub", "no sub", "expired"])
def test_a_bad_token_is_refused_with_a_reason(token, error):
    with pytest.raises(Unauthorized) as refused:
        verify_token(token, secret=SECRET)
    assert refused.value.status == 401
    assert refused.value.error == error


def signed(sub, secret: str = SECRET) -> str:
    return jwt.encode({"sub": sub, "iat": int(time.time()), "exp": int(time.time()) + 600}, secret, algorithm="HS256")


# Each passes str.isdigit(); int() of the first raises, of the second and third it gives another store's id.
NOT_ASCII_DIGITS = {"superscript two": "\u00b2", "arabic-indic 12": "\u0661\u0662", "fullwidth 7": "\uff17",
                    "plus sign": "+1", "space": " 1", "newline": "1\n", "19 digits": "1" * 19, "empty": ""}


@pytest.mark.parametrize("sub", NOT_ASCII_DIGITS.values(), ids=NOT_ASCII_DIGITS.keys())
def test_a_signed_token_whose_sub_is_not_ascii_digits_is_refused(sub):
    with pytest.raises(Unauthorized) as refused:
        verify_token(signed(sub), secret=SECRET)
    assert refused.value.error == "invalid_token"


def test_a_protected_route_answers_401_not_500_for_such_a_token():
    app = Flask("tokens")
    init_service(app, settings_for_tests("item", None))

    @app.get("/mine")
    @login_required
    def mine():
        return {"store_id": g.store_id}

    client = app.test_client()
    assert client.get("/mine", headers={"Authorization": f"Bearer {signed('12', TEST_JWT_SECRET)}"}).get_json() == \
        {"store_id": 12}
    for sub in NOT_ASCII_DIGITS.values():
        response = client.get("/mine", headers={"Authorization": f"Bearer {signed(sub, TEST_JWT_SECRET)}"})
        assert response.status_code == 401, sub
        assert response.get_json()["error"] == "invalid_token"


def test_a_token_verified_once_is_still_refused_once_it_expires():
    """Verified tokens are kept to save the check on the next request, but never past their exp."""
    token = issue_token(store_id=7, secret=SECRET, ttl_seconds=1)
    assert verify_token(token, secret=SECRET) == 7
    assert verify_token(token, secret=SECRET) == 7  # the kept verification
    time.sleep(1.1)
    with pytest.raises(Unauthorized) as refused:
        verify_token(token, secret=SECRET)
    assert refused.value.error == "token_expired"


def test_a_kept_verification_does_not_pass_a_token_under_another_secret():
    token = issue_token(store_id=8, secret=SECRET, ttl_seconds=60)
    assert verify_token(token, secret=SECRET) == 8
    with pytest.raises(Unauthorized) as refused:
        verify_token(token, secret="o" * 64)
    assert refused.value.error == "invalid_token"
