"""What the browser needs (API.md §0.2, §16.1): CORS on every answer, a 204 for every preflight, no slash redirects."""
import pytest

from bff.app import create_app
from bff.app.cors import ALLOWED_HEADERS
from testsupport.settings import settings_for_tests

from .conftest import owner

PREFLIGHT_HEADERS = ", ".join(ALLOWED_HEADERS)


def assert_cors(response):
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]


def test_every_kind_of_answer_carries_cors_headers(pos, client):
    terminal = pos()
    answers = {
        200: terminal.request("GET", "/categories/"),
        400: terminal.request("POST", "/categories/", {}),
        401: client.get("/categories/", headers={"Authorization": "Bearer null"}),
        404: client.get("/no/such/path", headers={"Origin": "https://pos.salesync.site"}),
        405: client.patch("/categories/"),
        409: terminal.request("POST", "/categories/", {"name": "피자"}),
    }
    for status, response in answers.items():
        assert response.status_code == status, (status, response.get_json())
        assert_cors(response)
        assert response.is_json


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/orders/", "/categories/7", "/bff/costs", "/stores/login", "/not/a/route"])
def test_a_preflight_is_a_204_allowing_the_method_and_the_pos_headers(client, method, path):
    response = client.options(path, headers={
        "Origin": "https://pos.salesync.site", "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": PREFLIGHT_HEADERS})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert method in [m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")]
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == set(ALLOWED_HEADERS)


def test_paths_answer_with_and_without_the_trailing_slash_and_never_redirect(pos, client):
    terminal = pos()
    for path in ("/stores/", "/stores", "/categories/", "/categories", "/categories/items", "/categories/items/",
                 "/orders/unpaids", "/orders/unpaids/", "/orders/unpaids/3/", "/sales/", "/sales", "/bff/costs/"):
        response = terminal.request("GET", path)
        assert response.status_code == 200, (path, response.get_json())
    assert client.post("/stores", json=owner()).status_code == 201
    assert terminal.request("POST", "/orders", {"table_no": 1, "carts": []}).get_json()["result"] == "failed"


def test_the_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "pos-trace-42"})
    assert response.headers["X-Request-ID"] == "pos-trace-42"


def test_even_an_unexpected_failure_answers_json_with_cors(backends):
    app = create_app(settings_for_tests("bff", None, service_urls=backends))

    def broken():
        raise RuntimeError("a bug")
    app.add_url_rule("/broken", view_func=broken)

    response = app.test_client().get("/broken")
    assert response.status_code == 500 and response.get_json()["error"] == "internal_error"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
