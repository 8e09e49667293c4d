import socket
import threading
import time

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from salesync_common import init_service
from salesync_common.service_client import call_in_parallel, service_client
from testsupport.clients import CheckedClient
from testsupport.settings import settings_for_tests


class Downstream:
    """A real HTTP server standing in for another Salesync service."""

    def __init__(self):
        self.calls = {}
        self.failures_left = 0
        app = Flask("downstream")

        def count(name):
            self.calls[name] = self.calls.get(name, 0) + 1

        @app.get("/headers")
        def headers():
            count("headers")
            return jsonify(request_id=request.headers.get("X-Request-ID"),
                           authorization=request.headers.get("Authorization"))

        @app.route("/flaky", methods=["GET", "POST"])
        def flaky():
            count(f"flaky {request.method}")
            if self.failures_left > 0:
                self.failures_left -= 1
                return jsonify(error="busy"), 503
            return jsonify(ok=True)

        @app.get("/boom")
        def boom():
            count("boom")
            return "Internal Server Error", 500

        @app.get("/slow")
        def slow():
            count("slow")
            time.sleep(1.5)
            return jsonify(ok=True)

        meeting = threading.Barrier(2, timeout=5)

        @app.get("/meet")
        def meet():
            # Answers only when a second call arrives while this one waits: proof they ran at once.
            try:
                meeting.wait()
            except threading.BrokenBarrierError:
                return jsonify(error="alone"), 409
            return jsonify(request_id=request.headers.get("X-Request-ID"),
                           authorization=request.headers.get("Authorization"))

        @app.get("/text")
        def text():
            return "plain text"

        @app.get("/missing")
        def missing():
            return jsonify(result="failed", error="not_found", message="no such thing"), 404

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def downstream():
    server = Downstream()
    yield server
    server.close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def caller(downstream):
    """A service whose /via/<path> calls the downstream service through the shared client."""
    settings = settings_for_tests("bff", None, http_read_timeout=0.5, http_get_retries=2,
                                  service_urls={"down": downstream.url,
                                                "gone": f"http://127.0.0.1:{free_port()}"})
    app = Flask("caller")
    init_service(app, settings)
    app.test_client_class = CheckedClient

    @app.route("/via/<service>/<path:path>", methods=["GET", "POST"])
    def via(service, path):
        reply = service_client().call(request.method, service, "/" + path)
        return jsonify(status=reply.status, body=reply.body)

    @app.get("/in-parallel/<service>/<first>/<second>")
    def in_parallel(service, first, second):
        client = service_client()
        replies = call_in_parallel(lambda: client.get(service, "/" + first), lambda: client.get(service, "/" + second))
        return jsonify([reply.body for reply in replies])

    return app.test_client()


def test_calls_in_parallel_run_at_once_and_forward_the_callers_token_and_request_id(caller):
    response = caller.get("/in-parallel/down/meet/meet",
                          headers={"X-Request-ID": "req-9", "Authorization": "Bearer tok"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == [{"request_id": "req-9", "authorization": "Bearer tok"}] * 2


def test_a_failed_call_in_parallel_fails_the_request_with_its_error(caller):
    response = caller.get("/in-parallel/down/headers/boom")
    assert response.status_code == 502
    assert response.get_json()["error"] == "upstream_error"


def test_the_callers_token_and_request_id_travel_downstream(caller):
    response = caller.get("/via/down/headers", headers={"X-Request-ID": "req-123", "Authorization": "Bearer tok"})
    assert response.get_json()["body"] == {"request_id": "req-123", "authorization": "Bearer tok"}
    assert response.headers["X-Request-ID"] == "req-123"


def test_a_get_is_retried_through_a_passing_failure(caller, downstream):
    downstream.failures_left = 2
    response = caller.get("/via/down/flaky")
    assert response.status_code == 200
    assert response.get_json()["body"] == {"ok": True}
    assert downstream.calls["flaky GET"] == 3


def test_a_post_is_never_sent_twice(caller, downstream):
    downstream.failures_left = 5
    response = caller.post("/via/down/flaky")
    assert response.status_code == 502
    assert downstream.calls["flaky POST"] == 1


def test_a_downstream_500_becomes_a_502_json_error(caller, downstream):
    response = caller.get("/via/down/boom")
    assert response.status_code == 502
    assert response.get_json()["error"] == "upstream_error"
    assert response.get_json()["service"] == "down"


def test_an_unreachable_service_is_a_503(caller):
    response = caller.get("/via/gone/anything")
    assert response.status_code == 503
    assert response.get_json()["error"] == "upstream_unavailable"


def test_a_slow_service_is_a_504_after_the_read_timeout(caller, downstream):
    started = time.monotonic()
    response = caller.get("/via/down/slow")
    assert response.status_code == 504
    assert response.get_json()["error"] == "upstream_timeout"
    assert time.monotonic() - started < 1.4 * (downstream.calls["slow"])


def test_a_reply_that_is_not_json_is_a_502(caller):
    response = caller.get("/via/down/text")
    assert response.status_code == 502
    assert response.get_json()["error"] == "upstream_bad_reply"


def test_a_downstream_4xx_is_handed_to_the_caller_to_decide(caller):
    response = caller.get("/via/down/missing")
    assert response.status_code == 200
    assert response.get_json() == {"status": 404, "body": {"result": "failed", "error": "not_found",
                                                           "message": "no such thing"}}


def test_a_get_that_starts_work_can_opt_out_of_retries(downstream):
    settings = settings_for_tests("bff", None, http_get_retries=2, service_urls={"down": downstream.url})
    app = Flask("caller-once")
    init_service(app, settings)
    downstream.failures_left = 5
    with app.test_request_context():
        with pytest.raises(Exception) as failed:
            service_client().call("GET", "down", "/flaky", retry=False)
    assert getattr(failed.value, "status", None) == 502
    assert downstream.calls["flaky GET"] == 1
