"""Bad tokens on every protected route of the BFF's route table (Decisions 2 and 8, API.md §0.3).

Over real HTTP, with every service up, and aimed at store A's real ids with valid bodies, so that a
request the BFF let through would really read or change A's data. Each (route, token) pair is its own
test: the answer is 401, the common JSON error, with CORS headers. At the end A's state is as before.
"""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from bff.app.routes import ROUTES
from bff.app.schemas import Error
from bff.app.urls import PATH_PARAMETER
from salesync_common.tokens import issue_token
from testsupport.settings import TEST_JWT_SECRET

from .support import ORIGIN, REQUESTS, open_shop, query_string, route_id, state_of, valid_body

TALLY = "token sweep"
PROTECTED = [route for route in ROUTES if route.auth]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def bad_authorizations(shop) -> dict[str, str | None]:
    """The Authorization header of each bad-token case; None sends none."""
    valid = shop.browser.token
    header, payload, signature = valid.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    now = int(time.time())
    tampered = f"{header}.{_b64({**claims, 'sub': str(shop.store_id + 1)})}.{signature}"
    expired = issue_token(store_id=shop.store_id, secret=TEST_JWT_SECRET, ttl_seconds=60, now=now - 3600)
    unsigned = jwt.encode({**claims, "iat": now, "exp": now + 600}, key=None, algorithm="none")
    wrong_secret = issue_token(store_id=shop.store_id, secret="not-the-salesync-secret-" * 2, ttl_seconds=600)
    return {"tampered": f"Bearer {tampered}", "expired": f"Bearer {expired}", "alg none": f"Bearer {unsigned}",
            "wrong secret": f"Bearer {wrong_secret}", "Bearer null": "Bearer null", "missing": None}


TOKEN_CASES = ["tampered", "expired", "alg none", "wrong secret", "Bearer null", "missing"]


@pytest.fixture(scope="module")
def victim(bff_served, dashboard_app, no_aws):
    """Store A, whose ids the requests carry, and its state before the sweep."""
    shop = open_shop(bff_served.url, tally=TALLY, label="토큰", dashboard_app=dashboard_app)
    return shop, state_of(shop), bad_authorizations(shop)


def _path(route, shop) -> str:
    values = {"store_id": shop.store_id, "category_id": shop.category("피자"), "item_id": shop.item("콜라"),
              "table_no": shop.open_tables[0], "sale_id": shop.sales[1], "req_id": shop.req_ids[0]}
    return PATH_PARAMETER.sub(lambda match: str(values[match["name"]]), route.path) + query_string(route)


@pytest.mark.parametrize("case", TOKEN_CASES)
@pytest.mark.parametrize("route", PROTECTED, ids=route_id)
def test_a_bad_token_is_a_401_json_error_with_cors(victim, route, case):
    shop, _, authorizations = victim
    path = _path(route, shop)
    headers = {"Origin": ORIGIN, "X-CSRF-Token": "csrf"}
    if authorizations[case] is not None:
        headers["Authorization"] = authorizations[case]
    body = valid_body(route.body, marker=shop.marker) if route.body is not None else None
    REQUESTS[TALLY] += 1
    response = shop.browser.session.request(route.method, shop.browser.base_url + path, json=body, headers=headers,
                                            timeout=30, allow_redirects=False)
    evidence = f"{route.method} {path} with {case} token -> {response.status_code} {response.text[:300]}"
    assert response.status_code == 401, evidence
    assert response.headers.get("Access-Control-Allow-Origin") == "*", evidence
    assert response.headers.get("Content-Type", "").startswith("application/json"), evidence
    Error.model_validate(response.json())
    assert "Traceback" not in response.text, evidence


def test_the_valid_token_still_works_and_nothing_changed(victim):
    """The same requests were refused for their tokens alone: A's own token reads A, and A is as it was."""
    shop, before, _ = victim
    assert state_of(shop) == before
