import time

import jwt
import pytest

from salesync_common.errors import Unauthorized
from salesync_common.tokens import issue_token, verify_token

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
