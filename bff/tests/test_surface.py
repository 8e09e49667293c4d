"""The BFF's web surface: security headers on every answer, /docs served by the BFF alone under a
Content-Security-Policy allowing only itself, and CORS origins from SALESYNC_CORS_ORIGINS."""
import json
import pathlib
import re

import pytest

from bff.app import create_app
from bff.app.api.docs import swagger_ui_files
from bff.app.cors import ALLOWED_HEADERS
from salesync_common.settings import Settings
from testsupport.settings import TEST_JWT_SECRET, settings_for_tests

from .conftest import owner

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
FRONTEND = "https://pos.salesync.example"
STRANGER = "https://evil.example"


def assert_security_headers(response, what):
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (what, response.status_code, dict(response.headers))


def test_every_kind_of_answer_carries_nosniff_and_no_referrer(pos, client, backends):
    terminal = pos()
    answers = {
        "200": terminal.request("GET", "/categories/"),
        "201": terminal.request("POST", "/categories/", {"name": "사이드"}),
        "204 preflight": client.options("/orders/", headers={"Origin": FRONTEND,
                                                             "Access-Control-Request-Method": "POST"}),
        "400": terminal.request("POST", "/categories/", {}),
        "400 too deep": client.post("/stores/login", data="[" * 40 + "]" * 40, content_type="application/json"),
        "401": client.get("/categories/", headers={"Authorization": "Bearer null"}),
        "404": client.get("/no/such/path"),
        "405": client.patch("/categories/"),
        "409": terminal.request("POST", "/categories/", {"name": "피자"}),
        "413": client.post("/stores/login", data=b"x" * (64 * 1024 + 1), content_type="application/json"),
        "503 upstream": terminal.request("GET", "/bff/sales?start=2026-01-01&end=2026-01-02"),
        "docs": client.get("/docs"),
        "openapi": client.get("/openapi.json"),
        "healthz": client.get("/healthz"),
    }
    expected = {"200": 200, "201": 201, "204 preflight": 204, "400": 400, "400 too deep": 400, "401": 401,
                "404": 404, "405": 405, "409": 409, "413": 413, "503 upstream": 503, "docs": 200, "openapi": 200,
                "healthz": 200}
    for what, response in answers.items():
        assert response.status_code == expected[what], (what, response.get_data(as_text=True)[:200])
        assert_security_headers(response, what)


def test_the_500_handlers_answer_carries_them_too(backends):
    app = create_app(settings_for_tests("bff", None, service_urls=backends))

    def broken():
        raise RuntimeError("a bug")
    app.add_url_rule("/broken", view_func=broken)

    response = app.test_client().get("/broken")
    assert response.status_code == 500 and response.get_json()["error"] == "internal_error"
    assert_security_headers(response, "500")


def test_a_body_over_64_kb_is_refused_by_the_bff_itself_with_the_common_error(client):
    response = client.post("/stores/", json=owner(address="가" * 30_000))
    assert response.status_code == 413
    assert response.get_json() == {"result": "failed", "error": "request_entity_too_large",
                                   "message": "the request body is larger than 65536 bytes"}


@pytest.mark.parametrize("path,body", [
    ("/stores/login", {"username": "a", "password": "b"}),
    ("/stores/", owner()),
])
def test_a_lone_surrogate_escape_is_a_400_not_a_500(client, path, body):
    """"\\ud800" is valid JSON but no text: the BFF could not pass it on (it answered 500); the owning
    service now sees it as sent and refuses the field."""
    raw = json.dumps({**body, "username": "\ud800"}, ensure_ascii=True)
    response = client.post(path, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["field"] == "username"


@pytest.mark.parametrize("path,body", [
    ("/stores/login", {"username": "a", "password": "b"}),
    ("/stores/", owner()),
])
def test_json_nested_33_levels_is_a_400_from_the_bff(client, path, body):
    deep = {**body, "username": _nested(32)}  # the body object is the 33rd level
    response = client.post(path, json=deep)
    assert response.status_code == 400
    assert response.get_json()["error"] == "json_too_deep"


def _nested(levels: int):
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


# ---- /docs ------------------------------------------------------------------------------------------

LINK = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("page", ["/docs", "/docs/"])
def test_the_docs_page_and_every_file_it_loads_come_from_the_bff(client, page):
    response = client.get(page)
    html = response.get_data(as_text=True)

    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "//" not in html.replace("<!doctype html>", ""), "no absolute or protocol-relative URL"
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script"
    links = LINK.findall(html)
    assert sorted(pathlib.PurePosixPath(link).name for link in links) == [
        "docs.js", "swagger-ui-bundle.js", "swagger-ui.css"]
    base = page if page.endswith("/") else "/"
    for link in links:
        asset = client.get(base + link)
        assert asset.status_code == 200, link
        assert asset.mimetype == ("text/css" if link.endswith(".css") else "text/javascript")
        assert_security_headers(asset, link)


def test_the_docs_page_allows_only_itself(client):
    policy = client.get("/docs").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    # Swagger UI's own style sheet draws a few icons as data: images; nothing else may come from elsewhere.
    assert directives["img-src"] == "'self' data:"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in policy


def test_swagger_ui_is_the_packaged_5_x_which_reads_openapi_3_1(client):
    # Swagger UI 4 cannot render an OpenAPI 3.1 document, which is what /openapi.json is.
    assert (swagger_ui_files() / "VERSION").read_text().strip().startswith("v5.")
    assert client.get("/openapi.json").get_json()["openapi"].startswith("3.1")
    served = client.get("/docs/swagger-ui-bundle.js").get_data()
    assert served == (swagger_ui_files() / "swagger-ui-bundle.js").read_bytes()


def test_the_start_script_reads_the_document_beside_the_page_and_asks_no_validator(client):
    script = client.get("/docs/docs.js").get_data(as_text=True)
    assert "openapi.json" in script and "validatorUrl: null" in script


# ---- CORS origins ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def narrowed():
    """A BFF whose SALESYNC_CORS_ORIGINS names the frontend (as the prod overlay does) and a dev origin."""
    settings = Settings.from_env("bff", env={"SALESYNC_JWT_SECRET": TEST_JWT_SECRET,
                                             "SALESYNC_CORS_ORIGINS": f"{FRONTEND}, http://localhost:3000"})
    return create_app(settings).test_client()


@pytest.mark.parametrize("path,status", [("/openapi.json", 200), ("/no/such/path", 404)])
def test_a_listed_origin_is_allowed_and_answers_vary_by_origin(narrowed, path, status):
    for origin in (FRONTEND, "http://localhost:3000"):
        response = narrowed.get(path, headers={"Origin": origin})
        assert response.status_code == status
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]
        assert "Origin" in response.headers.get("Vary", "")


@pytest.mark.parametrize("origin", [STRANGER, "https://pos.salesync.example.evil.example", "null",
                                    "http://pos.salesync.example"])
def test_an_origin_not_listed_gets_no_allow_origin(narrowed, origin):
    response = narrowed.get("/openapi.json", headers={"Origin": origin})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers.get("Vary", "")


def test_preflights_allow_a_listed_origin_only(narrowed):
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": ", ".join(ALLOWED_HEADERS)}
    allowed = narrowed.options("/orders/", headers={"Origin": FRONTEND, **asked})
    refused = narrowed.options("/orders/", headers={"Origin": STRANGER, **asked})

    assert allowed.status_code == 204 and allowed.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert refused.status_code == 204
    assert not any(name.startswith("Access-Control-Allow") for name, _ in refused.headers.items())


def test_unset_the_bff_allows_any_origin_for_local_use(client):
    response = client.get("/openapi.json", headers={"Origin": STRANGER})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
