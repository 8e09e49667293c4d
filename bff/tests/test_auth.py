"""Tokens are checked at the BFF before anything is forwarded (Decisions 2, 8; API.md §0.3, §0.4)."""
import time

import jwt
import pytest

from bff.app.routes import ROUTES
from bff.app.urls import PATH_PARAMETER
from salesync_common.tokens import issue_token
from testsupport.settings import TEST_JWT_SECRET

from .conftest import bff_app, closed_port_url, owner

PROTECTED = [route for route in ROUTES if route.auth]


@pytest.fixture(scope="module")
def isolated():
    """A BFF whose every service is unreachable: an answer other than 503 comes from the BFF itself."""
    nowhere = closed_port_url()
    return bff_app({name: nowhere for name in ("store", "item", "order", "sale", "dashboard", "consulting")})


def _bad_tokens():
    expired = issue_token(store_id=1, secret=TEST_JWT_SECRET, ttl_seconds=60, now=time.time() - 3600)
    forged = issue_token(store_id=1, secret="another-secret-" * 3, ttl_seconds=3600)
    unsigned = jwt.encode({"sub": "1", "iat": int(time.time()), "exp": int(time.time()) + 60}, key=None,
                          algorithm="none")
    return {"missing": None, "Bearer null": "Bearer null", "not bearer": "Token abc", "garbage": "Bearer abc.def",
            "expired": f"Bearer {expired}", "bad signature": f"Bearer {forged}", "alg none": f"Bearer {unsigned}"}


@pytest.mark.parametrize("case, header", _bad_tokens().items(), ids=list(_bad_tokens()))
def test_a_bad_token_is_a_401_before_forwarding(isolated, case, header):
    client = isolated.test_client()
    headers = {"Authorization": header} if header else {}
    for route in PROTECTED:
        path = PATH_PARAMETER.sub(lambda match: "1" if match["converter"] == "int" else "x", route.path)
        response = client.open(path, method=route.method, json={} if route.body else None, headers=headers)
        assert response.status_code == 401, (case, route.method, path, response.get_json())


def test_public_routes_are_forwarded_without_a_token(isolated):
    client = isolated.test_client()
    assert client.post("/stores/", json=owner()).status_code == 503
    assert client.post("/stores/login", json={"username": "a", "password": "b"}).status_code == 503
    assert client.get("/stores/check?username=someone").status_code == 503


def test_the_csrf_header_is_neither_needed_nor_checked(pos):
    terminal = pos()
    assert terminal.call("GET", "/categories/", **{"X-CSRF-Token": "anything at all"})["categories"]
    terminal.headers.pop("X-CSRF-Token")
    assert terminal.call("GET", "/categories/")["categories"]
