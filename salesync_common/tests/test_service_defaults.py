import io
import json
import logging

import pytest
from flask import Flask

from salesync_common import init_service
from salesync_common.database import make_database
from salesync_common.request_body import json_object
from salesync_common.request_log import JsonLogFormatter
from testsupport.settings import settings_for_tests


@pytest.fixture
def app():
    app = Flask("sample")
    init_service(app, settings_for_tests("item", None, log_level="INFO"))

    @app.get("/fails")
    def fails():
        raise RuntimeError("secret internals")

    @app.post("/only-post")
    def only_post():
        return json_object()

    return app


@pytest.fixture
def client(app):
    return app.test_client()


def test_a_request_id_is_created_when_the_caller_sends_none(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_the_callers_request_id_is_echoed(client):
    assert client.get("/healthz", headers={"X-Request-ID": "pos-7:abc"}).headers["X-Request-ID"] == "pos-7:abc"


def test_an_unsafe_request_id_is_replaced(client):
    for unsafe in ("<script>alert(1)</script>", "x" * 129, "two words"):
        echoed = client.get("/healthz", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
        assert echoed != unsafe and len(echoed) == 32


def test_every_log_line_is_json_with_the_request_id(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter("item"))
    logging.getLogger().addHandler(handler)
    try:
        client.get("/fails", headers={"X-Request-ID": "trace-me"})
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines and all(line["request_id"] == "trace-me" and line["service"] == "item" for line in lines)
    error_line = next(line for line in lines if line["level"] == "ERROR")
    assert "secret internals" in error_line["exception"]
    access_line = next(line for line in lines if line["message"] == "request")
    assert access_line["status"] == 500 and access_line["path"] == "/fails"


def test_an_unexpected_error_is_a_json_500_without_a_traceback(client):
    response = client.get("/fails")
    assert response.status_code == 500
    assert response.get_json() == {"result": "failed", "error": "internal_error", "message": "internal server error"}
    assert "secret internals" not in response.get_data(as_text=True)


def test_unknown_paths_and_methods_answer_json(client):
    missing = client.get("/nowhere")
    wrong_method = client.get("/only-post")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"] == "method_not_allowed"
    assert "POST" in wrong_method.headers["Allow"]


def test_a_body_over_64_kb_is_refused_as_json(client):
    response = client.post("/only-post", data=b"x" * (64 * 1024 + 1), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"


def test_healthz_answers_without_a_database(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "service": "item"}


def test_readyz_is_503_when_the_database_cannot_be_reached():
    app = Flask("no-db")
    init_service(app, settings_for_tests("item", "postgresql://postgres@127.0.0.1:1/none"), db=make_database("item"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "unreachable"}


def test_readyz_is_200_when_the_database_answers(database_url):
    app = Flask("with-db")
    init_service(app, settings_for_tests("item", database_url), db=make_database("item"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok"}
