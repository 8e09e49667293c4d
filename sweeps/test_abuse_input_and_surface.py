"""Issue 13, points 7 and 8, against the running services through the BFF (over real HTTP, nothing mocked).

7. Hostile input gets a 4xx, never a 500: JSON nested 33 levels is a 400 (32 still reads), a body of
   64 KB + 1 a 413 (with a Content-Length, or chunked without one), names with zero-width or bidi
   characters a 400 naming the field, the decomposed form of a taken name a 409, a token whose `sub`
   is not ASCII digits a 401.
8. The web surface: nosniff and no-referrer on every kind of answer, /docs and its files from the BFF
   alone (no external URL) under a Content-Security-Policy of its own, and CORS answering only the
   origins of SALESYNC_CORS_ORIGINS on a BFF served with it set.

Each check counts its requests under a tally of its own (printed at the end of the run).
"""
from __future__ import annotations

import json
import re
import time
import unicodedata
import urllib.parse
import uuid

import jwt
import pytest
import requests

from bff.app import create_app
from salesync_common.settings import Settings
from testsupport import shop as scenario
from testsupport.served import ServedApp, local_service_urls
from testsupport.settings import TEST_ENV, TEST_JWT_SECRET

from .support import ORIGIN, PASSWORD, REQUESTS, Browser

TALLY_DEPTH = "abuse 7: JSON nested deeper than 32 levels"
TALLY_SIZE = "abuse 7: bodies over 64 KB"
TALLY_HIDDEN = "abuse 7: zero-width, bidi, default-ignorable and blank characters in names"
TALLY_FORMS = "abuse 7: a taken name sent decomposed"
TALLY_SUB = "abuse 7: token sub not ASCII digits"
TALLY_HEADERS = "abuse 8: security headers"
TALLY_DOCS = "abuse 8: /docs served by the BFF"
TALLY_CORS = "abuse 8: CORS origins"
SETUP = "abuse 7/8: setting the store up"

LIMIT_BYTES = 64 * 1024
FRONTEND = "https://pos.salesync.example"
STRANGER = "https://evil.example"
COLA = "콜라"
COLA_JAMO = unicodedata.normalize("NFD", COLA)


def nested(levels: int):
    """A JSON value of `levels` nested arrays; inside a body object it makes levels + 1."""
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


def send(browser: Browser, tally: str, method: str, path: str, data=None, *, json_body=None,
         headers: dict | None = None, auth: bool = True) -> requests.Response:
    """One request to the BFF, counted under `tally`: a JSON body, or raw bytes (or chunks) as JSON."""
    REQUESTS[tally] += 1
    sent = {**(browser.headers if auth else {"Origin": ORIGIN}), **(headers or {})}
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    return browser.session.request(method, browser.base_url + path, data=data, json=json_body, headers=sent,
                                   timeout=30, allow_redirects=False)


def assert_error(response, status: int, error: str | None = None, field: str | None = None):
    evidence = f"{response.request.method} {response.request.url} -> {response.status_code} {response.text[:300]}"
    assert response.status_code == status, evidence
    body = response.json()
    assert body["result"] == "failed" and isinstance(body["message"], str), evidence
    if error is not None:
        assert body["error"] == error, evidence
    if field is not None:
        assert body.get("field") == field, evidence
    return body


@pytest.fixture(scope="module")
def store(bff_served):
    """A store signed up through the BFF with one category ("음료") holding one item ("콜라")."""
    browser = Browser(bff_served.url, tally=SETUP)
    pos = scenario.Shop(browser.send).sign_up(username=f"abuse{uuid.uuid4().hex[:10]}", password=PASSWORD)
    browser.token = pos.token
    pos.headers = browser.headers
    pos.build_menu({"음료": {COLA: "2000"}})
    return browser, pos


def menu_of(browser: Browser, tally: str) -> dict:
    response = send(browser, tally, "GET", "/categories/items")
    assert response.status_code == 200
    return {category["category_name"]: sorted(item["name"] for item in category["items"])
            for category in response.json()["categories"]}


# ---- 7. JSON nested deeper than 32 levels ------------------------------------------------------------

def test_json_nested_33_levels_is_a_400_on_login_sign_up_and_item_create(store):
    browser, pos = store
    drinks = pos.categories["음료"]
    form = {**scenario.OWNER, "username": f"deep{uuid.uuid4().hex[:10]}"}
    cases = [
        ("POST", "/stores/login", {"username": nested(32), "password": PASSWORD}, False),
        ("POST", "/stores/", {**form, "store_name": nested(32)}, False),
        ("POST", f"/categories/{drinks}/items", {"name": nested(32), "price": 1}, True),
        ("POST", "/categories/", {"name": nested(32)}, True),
        ("POST", "/orders/", {"table_no": 1, "carts": nested(32)}, True),
    ]
    for method, path, body, auth in cases:
        response = send(browser, TALLY_DEPTH, method, path, json_body=body, auth=auth,
                        headers={"Idempotency-Key": f"deep-{uuid.uuid4().hex}"} if path == "/orders/" else None)
        assert_error(response, 400, "json_too_deep")
        assert response.json()["message"] == "the JSON body is nested deeper than 32 levels"
    assert menu_of(browser, TALLY_DEPTH) == {"음료": [COLA]}
    login = send(browser, TALLY_DEPTH, "POST", "/stores/login", auth=False,
                 json_body={"username": form["username"], "password": PASSWORD})
    assert_error(login, 400)  # the deep sign-up made no store


def test_32_levels_still_reach_validation_and_30_000_levels_are_no_500(store):
    browser, _ = store
    level_32 = send(browser, TALLY_DEPTH, "POST", "/stores/login", auth=False,
                    json_body={"username": nested(31), "password": PASSWORD})
    assert_error(level_32, 400, "invalid_field", "username")  # read, then refused for its type

    text = '{"username": ' + "[" * 30_000 + "]" * 30_000 + "}"   # 60 KB: under the size limit
    deepest = send(browser, TALLY_DEPTH, "POST", "/stores/login", text.encode(), auth=False)
    assert_error(deepest, 400, "json_too_deep")


# ---- 7. bodies over 64 KB --------------------------------------------------------------------------

def padded_login(size: int, char: str = "x") -> bytes:
    """A login body of exactly `size` bytes (UTF-8), its username padded with `char`."""
    empty = len(json.dumps({"username": "", "password": PASSWORD}, ensure_ascii=False).encode())
    width = len(char.encode())
    body = json.dumps({"username": char * ((size - empty) // width) + "x" * ((size - empty) % width),
                       "password": PASSWORD}, ensure_ascii=False).encode()
    assert len(body) == size
    return body


def chunks(body: bytes, size: int = 8192):
    for start in range(0, len(body), size):
        yield body[start:start + size]


def test_a_body_of_64_kb_plus_one_is_a_413_with_or_without_a_content_length(store):
    browser, pos = store
    drinks = pos.categories["음료"]
    over = padded_login(LIMIT_BYTES + 1)
    answers = {
        "login": send(browser, TALLY_SIZE, "POST", "/stores/login", over, auth=False),
        "sign-up": send(browser, TALLY_SIZE, "POST", "/stores/", over, auth=False),
        "item create": send(browser, TALLY_SIZE, "POST", f"/categories/{drinks}/items", over),
        "login, chunked": send(browser, TALLY_SIZE, "POST", "/stores/login", chunks(over), auth=False),
        "item create, chunked": send(browser, TALLY_SIZE, "POST", f"/categories/{drinks}/items", chunks(over)),
    }
    for what, response in answers.items():
        assert "chunked" not in what or "Content-Length" not in response.request.headers
        body = assert_error(response, 413, "request_entity_too_large")
        assert body["message"] == "the request body is larger than 65536 bytes", what

    # 64 KB exactly, ASCII or Korean (3 bytes a character, which the BFF passes on as they came):
    # read, and refused only for the username's length.
    for char in ("x", "가"):
        at_limit = send(browser, TALLY_SIZE, "POST", "/stores/login", padded_login(LIMIT_BYTES, char), auth=False)
        assert_error(at_limit, 400, "invalid_field", "username")
    assert menu_of(browser, TALLY_SIZE) == {"음료": [COLA]}


# ---- 7. zero-width, bidi and default-ignorable characters in names, and names showing nothing ----------

HIDDEN = {"zero-width space": "\u200b", "zero-width joiner": "\u200d", "right-to-left override": "\u202e",
          "first strong isolate": "\u2068", "byte order mark": "\ufeff",
          # Default_Ignorable letters and marks that are not format characters, and the braille blank
          "hangul filler": "\u3164", "hangul choseong filler": "\u115f", "hangul jungseong filler": "\u1160",
          "halfwidth hangul filler": "\uffa0", "combining grapheme joiner": "\u034f",
          "variation selector-16": "\ufe0f", "variation selector-17": "\U000e0100", "braille blank": "\u2800"}


@pytest.mark.parametrize("char", HIDDEN.values(), ids=HIDDEN.keys())
def test_a_name_hiding_a_character_is_a_400_naming_the_field(store, char):
    browser, pos = store
    drinks = pos.categories["음료"]
    username = f"hide{uuid.uuid4().hex[:10]}"
    form = {**scenario.OWNER, "username": username}
    answers = [
        (send(browser, TALLY_HIDDEN, "POST", "/stores/", json_body={**form, "store_name": f"피자{char}가게"},
              auth=False), "store_name"),
        (send(browser, TALLY_HIDDEN, "POST", "/stores/", json_body={**form, "owner_name": f"홍{char}길동"},
              auth=False), "owner_name"),
        (send(browser, TALLY_HIDDEN, "POST", "/categories/", json_body={"name": f"음{char}료"}), "name"),
        (send(browser, TALLY_HIDDEN, "PUT", f"/categories/{drinks}", json_body={"name": f"{char}음료"}), "name"),
        (send(browser, TALLY_HIDDEN, "POST", f"/categories/{drinks}/items",
              json_body={"name": f"콜{char}라", "price": 2000}), "name"),
    ]
    for response, field in answers:
        assert_error(response, 400, "invalid_field", field)
    assert menu_of(browser, TALLY_HIDDEN) == {"음료": [COLA]}
    check = send(browser, TALLY_HIDDEN, "GET", f"/stores/check?username={username}", auth=False)
    assert check.json()["result"] == "success"  # no store was made


@pytest.mark.parametrize("blank", ["\u3164", "\u2800", " \uffa0 ", "\u3000"],
                         ids=["hangul filler", "braille blank", "halfwidth filler in spaces", "ideographic space"])
def test_a_name_showing_no_character_is_a_400_naming_the_field(store, blank):
    browser, pos = store
    drinks = pos.categories["음료"]
    username = f"blank{uuid.uuid4().hex[:10]}"
    answers = [
        (send(browser, TALLY_HIDDEN, "POST", "/stores/", auth=False,
              json_body={**scenario.OWNER, "username": username, "store_name": blank}), "store_name"),
        (send(browser, TALLY_HIDDEN, "POST", "/categories/", json_body={"name": blank}), "name"),
        (send(browser, TALLY_HIDDEN, "POST", f"/categories/{drinks}/items",
              json_body={"name": blank, "price": 2000}), "name"),
    ]
    for response, field in answers:
        assert_error(response, 400, "invalid_field", field)
    assert menu_of(browser, TALLY_HIDDEN) == {"음료": [COLA]}
    check = send(browser, TALLY_HIDDEN, "GET", f"/stores/check?username={username}", auth=False)
    assert check.json()["result"] == "success"  # no store was made


# ---- 7. a taken name sent decomposed -------------------------------------------------------------

def test_the_decomposed_form_of_a_taken_name_is_a_409(store):
    browser, pos = store
    drinks = pos.categories["음료"]
    cider = send(browser, TALLY_FORMS, "POST", f"/categories/{drinks}/items", json_body={"name": "사이다", "price": 1})
    assert cider.status_code == 201
    assert_error(send(browser, TALLY_FORMS, "POST", "/categories/",
                      json_body={"name": unicodedata.normalize("NFD", "음료")}), 409, "duplicate_category")
    assert_error(send(browser, TALLY_FORMS, "POST", f"/categories/{drinks}/items",
                      json_body={"name": COLA_JAMO, "price": 1}), 409, "duplicate_item")
    assert_error(send(browser, TALLY_FORMS, "PUT", f"/categories/items/{cider.json()['id']}",
                      json_body={"name": COLA_JAMO, "price": 1}), 409, "duplicate_item")

    composed = send(browser, TALLY_FORMS, "POST", "/categories/", json_body={"name": "Cafe\u0301"})
    assert composed.status_code == 201
    assert menu_of(browser, TALLY_FORMS) == {"음료": ["사이다", COLA], "Café": []}
    send(browser, TALLY_FORMS, "DELETE", f"/categories/{composed.json()['id']}")
    send(browser, TALLY_FORMS, "DELETE", f"/categories/items/{cider.json()['id']}")


# ---- 7. a token whose sub is not ASCII digits ------------------------------------------------------

BAD_SUBS = {"superscript two": "\u00b2", "arabic-indic digits": "\u0661\u0662", "fullwidth digit": "\uff11",
            "signed": "+1", "19 digits": "1" * 19}


@pytest.mark.parametrize("sub", BAD_SUBS.values(), ids=BAD_SUBS.keys())
def test_a_signed_token_whose_sub_is_not_ascii_digits_is_a_401(store, sub):
    browser, _ = store
    now = int(time.time())
    token = jwt.encode({"sub": sub, "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex, "type": "access"},
                       TEST_JWT_SECRET, algorithm="HS256")
    forged = Browser(browser.base_url, tally=TALLY_SUB)
    forged.token = token
    for method, path, body in [("GET", "/stores/", None), ("GET", "/categories/", None),
                               ("POST", "/categories/", {"name": "탈취"}), ("GET", "/orders/unpaids", None),
                               ("GET", "/sales/", None)]:
        assert_error(send(forged, TALLY_SUB, method, path, json_body=body), 401, "invalid_token")


# ---- 8. security headers on every kind of answer -----------------------------------------------------

def test_nosniff_and_no_referrer_on_every_kind_of_answer(store):
    browser, _ = store
    answers = {
        200: send(browser, TALLY_HEADERS, "GET", "/categories/"),
        204: send(browser, TALLY_HEADERS, "OPTIONS", "/orders/", headers={"Access-Control-Request-Method": "POST"}),
        400: send(browser, TALLY_HEADERS, "POST", "/categories/", json_body={}),
        401: send(browser, TALLY_HEADERS, "GET", "/categories/", headers={"Authorization": "Bearer null"}),
        404: send(browser, TALLY_HEADERS, "GET", "/no/such/path"),
        405: send(browser, TALLY_HEADERS, "PATCH", "/categories/"),
        409: send(browser, TALLY_HEADERS, "POST", "/categories/", json_body={"name": "음료"}),
        413: send(browser, TALLY_HEADERS, "POST", "/stores/login", padded_login(LIMIT_BYTES + 1), auth=False),
    }
    for status, response in answers.items():
        assert response.status_code == status, (status, response.text[:200])
        assert response.headers.get("X-Content-Type-Options") == "nosniff", status
        assert response.headers.get("Referrer-Policy") == "no-referrer", status
        assert response.headers.get("Access-Control-Allow-Origin") == "*", status


# ---- 8. /docs, served by the BFF alone ------------------------------------------------------------------

def test_docs_and_its_files_load_from_the_bff_with_no_external_url(store):
    browser, _ = store
    for page in ("/docs", "/docs/"):
        response = send(browser, TALLY_DOCS, "GET", page, auth=False)
        html = response.text
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
        assert not re.search(r"(?:src|href)=\"(?:[a-z]+:)?//", html) and "http" not in html, html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script"
        policy = response.headers["Content-Security-Policy"]
        assert policy.startswith("default-src 'self';") and "unsafe" not in policy and "http" not in policy
        links = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert len(links) == 3
        for link in links:
            asset = send(browser, TALLY_DOCS, "GET", urllib.parse.urljoin(page, link), auth=False)
            assert asset.status_code == 200, link
            assert asset.headers["Content-Type"].split(";")[0] in ("text/css", "text/javascript"), link
            assert asset.headers["X-Content-Type-Options"] == "nosniff"
    document = send(browser, TALLY_DOCS, "GET", "/openapi.json", auth=False)
    assert document.status_code == 200 and document.json()["openapi"].startswith("3.1")


# ---- 8. CORS origins from SALESYNC_CORS_ORIGINS ---------------------------------------------------------

@pytest.fixture(scope="module")
def narrowed_bff(store_service, item_service, order_service, sale_service, dashboard_service, consulting_service):
    """A second BFF in front of the same services, served with SALESYNC_CORS_ORIGINS set as in production."""
    urls = local_service_urls(store=store_service, item=item_service, order=order_service, sale=sale_service,
                              dashboard=dashboard_service, consulting=consulting_service)
    settings = Settings.from_env("bff", env={**TEST_ENV, "SALESYNC_ENV": "test",
                                             "SALESYNC_LOG_LEVEL": "WARNING", "SALESYNC_CORS_ORIGINS": FRONTEND},
                                 service_urls=urls)
    served = ServedApp(create_app(settings))
    yield served
    served.shutdown()


def test_cors_answers_the_listed_origin_only(store, narrowed_bff):
    browser, pos = store
    token = {"Authorization": f"Bearer {pos.token}"}
    client = Browser(narrowed_bff.url, tally=TALLY_CORS)
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type, x-csrf-token"}

    def ask(method, path, origin, **headers):
        return send(client, TALLY_CORS, method, path, headers={"Origin": origin, **headers}, auth=False)

    allowed = ask("GET", "/categories/", FRONTEND, **token)
    refused = ask("GET", "/categories/", STRANGER, **token)
    allowed_preflight = ask("OPTIONS", "/categories/", FRONTEND, **preflight)
    refused_preflight = ask("OPTIONS", "/categories/", STRANGER, **preflight)
    allowed_error = ask("GET", "/categories/", FRONTEND)

    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert "Origin" in allowed.headers["Vary"]
    # The answer itself is the same (CORS is the browser's to enforce); it only lacks the allowance.
    assert refused.status_code == 200 and "Access-Control-Allow-Origin" not in refused.headers
    assert allowed_preflight.status_code == 204
    assert allowed_preflight.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert "POST" in allowed_preflight.headers["Access-Control-Allow-Methods"]
    assert refused_preflight.status_code == 204
    assert "Access-Control-Allow-Origin" not in refused_preflight.headers
    assert "Access-Control-Allow-Methods" not in refused_preflight.headers
    assert allowed_error.status_code == 401 and allowed_error.headers["Access-Control-Allow-Origin"] == FRONTEND
    for response in (allowed, refused, allowed_preflight, refused_preflight, allowed_error):
        assert response.headers["X-Content-Type-Options"] == "nosniff"

    # The sweep's own BFF, with the setting unset, answers any origin (local use).
    unset = send(browser, TALLY_CORS, "GET", "/categories/", headers={"Origin": STRANGER})
    assert unset.headers["Access-Control-Allow-Origin"] == "*"
