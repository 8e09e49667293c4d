"""Hostile bodies answer 4xx, never 500: JSON nested deeper than 32 levels is a 400 before any parser
recurses into it, and a body over 64 KB is a 413, with a Content-Length or chunked without one."""
import time

import pytest
import requests
from flask import Flask, request
from pydantic import BaseModel

from salesync_common import init_service
from salesync_common.request_body import nesting_depth, parse_body
from testsupport.served import ServedApp, ServiceProcess
from testsupport.settings import settings_for_tests

LIMIT_BYTES = 64 * 1024


class Anything(BaseModel):
    value: object = None


def nested(depth: int) -> str:
    """{"value": ...} holding arrays nested to `depth` levels in all (the object is the first)."""
    return '{"value": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def make_app(**overrides) -> Flask:
    app = Flask("bodies")
    init_service(app, settings_for_tests("item", None, **overrides))

    @app.post("/parsed")
    def parsed():
        return {"ok": parse_body(Anything).value is not None}

    @app.post("/flask-json")
    def flask_json():
        # What the idempotency fingerprint does: Flask's own parser, silent on malformed JSON.
        return {"ok": request.get_json(silent=True) is not None}

    return app


@pytest.fixture(scope="module")
def client():
    return make_app().test_client()


@pytest.mark.parametrize("text,depth", [
    ("", 0), ("12", 0), ('"[[[{{"', 0), ("{}", 1), ("[]", 1), ("[[],[],[[]]]", 3),
    ('{"a": [1, {"b": "]]]]"}]}', 3), ('["\\"[[[", [[]]]', 3), ('["\\\\", [[]]]', 3),
    ("[" * 33 + "]" * 33, 33),
    # Not JSON: a parser stops at the unterminated string; the count includes everything before it.
    ('[["ab\\"[[[[', 2),
])
def test_nesting_is_counted_without_parsing(text, depth):
    assert nesting_depth(text) == depth


@pytest.mark.parametrize("text", [
    '"' + '\\"' * 32_000,      # one unterminated string full of escaped quotes
    '"a",' * 16_000,           # many short strings
    "[" * 65_536,              # brackets only
    '"\\' * 32_000,
], ids=["escaped quotes", "many strings", "brackets", "backslashes"])
def test_counting_a_64_kb_body_takes_milliseconds_whatever_it_holds(text):
    started = time.perf_counter()
    nesting_depth(text)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("path", ["/parsed", "/flask-json"])
def test_32_levels_are_accepted(client, path):
    response = client.post(path, data=nested(32), content_type="application/json")
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("path", ["/parsed", "/flask-json"])
@pytest.mark.parametrize("depth", [33, 1_000, 30_000])
def test_deeper_than_32_levels_is_a_400_not_a_500(client, path, depth):
    response = client.post(path, data=nested(depth), content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"result": "failed", "error": "json_too_deep",
                                   "message": "the JSON body is nested deeper than 32 levels"}


def test_a_deep_body_under_a_json_suffix_type_is_refused_too(client):
    response = client.post("/flask-json", data=nested(5_000), content_type="application/merge-patch+json")
    assert response.status_code == 400 and response.get_json()["error"] == "json_too_deep"


def test_the_depth_limit_is_a_setting():
    client = make_app(max_json_depth=5).test_client()
    assert client.post("/parsed", data=nested(5), content_type="application/json").status_code == 200
    assert client.post("/parsed", data=nested(6), content_type="application/json").get_json()["message"] == \
        "the JSON body is nested deeper than 5 levels"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1E999"])
def test_numbers_json_lacks_are_a_400_not_passed_on(client, number):
    # Python's parser reads them; re-encoding them for the owning service (the BFF's forward) fails.
    response = client.post("/parsed", data=f'{{"value": {number}}}', content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"] == "malformed_json"


def test_a_float_in_range_is_still_a_number(client):
    assert client.post("/parsed", data='{"value": 2.5e3}', content_type="application/json").status_code == 200


def padded(size: int) -> bytes:
    body = b'{"value": "' + b"x" * (size - 13) + b'"}'
    assert len(body) == size
    return body


def test_a_body_of_64_kb_is_read(client):
    assert client.post("/parsed", data=padded(LIMIT_BYTES), content_type="application/json").status_code == 200


def test_a_body_one_byte_over_64_kb_is_a_json_413(client):
    response = client.post("/parsed", data=padded(LIMIT_BYTES + 1), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json() == {"result": "failed", "error": "request_entity_too_large",
                                   "message": "the request body is larger than 65536 bytes"}


def chunks(body: bytes, size: int = 8192):
    for start in range(0, len(body), size):
        yield body[start:start + size]


def test_a_chunked_body_without_a_length_is_cut_at_64_kb_too():
    served = ServedApp(make_app())
    try:
        over = requests.post(served.url + "/parsed", data=chunks(padded(LIMIT_BYTES + 1)), timeout=10,
                             headers={"Content-Type": "application/json"})
        under = requests.post(served.url + "/parsed", data=chunks(padded(LIMIT_BYTES)), timeout=10,
                              headers={"Content-Type": "application/json"})
    finally:
        served.shutdown()
    assert over.request.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in over.request.headers
    assert over.status_code == 413 and over.json()["error"] == "request_entity_too_large"
    assert under.status_code == 200


def test_under_gunicorn_as_deployed_a_chunked_or_deep_login_is_refused(database_url):
    store = ServiceProcess("store", database_url)
    try:
        chunked = requests.post(store.url + "/stores/login", data=chunks(padded(LIMIT_BYTES + 1)), timeout=10,
                                headers={"Content-Type": "application/json"})
        deep = requests.post(store.url + "/stores/login", data=nested(10_000), timeout=10,
                             headers={"Content-Type": "application/json"})
        alive = requests.get(store.url + "/healthz", timeout=10)
    finally:
        store.stop()
    assert chunked.status_code == 413 and chunked.json()["error"] == "request_entity_too_large"
    assert deep.status_code == 400 and deep.json()["error"] == "json_too_deep"
    assert alive.status_code == 200
