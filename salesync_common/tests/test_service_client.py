import socket
import threading
import time

import pytest
import requests
from flask import Flask, jsonify, request
from pydantic import BaseModel, StrictInt, StrictStr
from werkzeug.serving import make_server

from salesync_common import deadlines, init_service
from salesync_common.deadlines import DEADLINE_HEADER
from salesync_common.errors import ApiError, UpstreamError
from salesync_common.service_auth import require_service_token
from salesync_common.service_client import ServiceReply, call_in_parallel, service_client
from testsupport.clients import CheckedClient
from testsupport.served import ServedApp
from testsupport.settings import service_headers, settings_for_tests


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

        @app.get("/deadline")
        def deadline():
            count("deadline")
            return jsonify(deadline_ms=request.headers.get(DEADLINE_HEADER))

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

    @app.get("/passing-503/<service>/<path:path>")
    def passing_503(service, path):
        reply = service_client().call("GET", service, "/" + path, retry=False, passed_on=(503,))
        return jsonify(status=reply.status, body=reply.body)

    @app.get("/relayed/<service>/<path:path>")
    def relayed(service, path):
        reply = service_client().get(service, "/" + path, relay=True)
        return jsonify(status=reply.status, body=reply.body, raw=reply.raw.decode())

    @app.get("/parsed/<service>/<path:path>")
    def parsed(service, path):
        return jsonify(service_client().get(service, "/" + path).parsed(Thing).model_dump())

    @app.get("/within/<int:milliseconds>/<service>/<path:path>")
    def within(milliseconds, service, path):
        deadlines.start(milliseconds / 1000)  # as the BFF's gateway does
        reply = service_client().call("GET", service, "/" + path)
        return jsonify(status=reply.status, body=reply.body)

    @app.get("/in-parallel/<service>/<first>/<second>")
    def in_parallel(service, first, second):
        client = service_client()
        replies = call_in_parallel(lambda: client.get(service, "/" + first), lambda: client.get(service, "/" + second))
        return jsonify([reply.body for reply in replies])

    return app.test_client()


class Thing(BaseModel):
    """A contract model, as in salesync_common.contracts."""
    name: StrictStr
    count: StrictInt


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


def test_a_5xx_the_caller_passes_on_is_returned_and_any_other_still_fails(caller, downstream):
    downstream.failures_left = 1
    assert caller.get("/passing-503/down/flaky").get_json() == {"status": 503, "body": {"error": "busy"}}
    assert downstream.calls["flaky GET"] == 1
    boom = caller.get("/passing-503/down/boom")
    assert boom.status_code == 502 and boom.get_json()["error"] == "upstream_error"


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


def test_a_relayed_reply_comes_as_the_service_sent_it_unparsed(caller, downstream):
    answer = caller.get("/relayed/down/missing").get_json()
    assert answer["status"] == 404 and answer["body"] is None
    assert answer["raw"] == '{"error":"not_found","message":"no such thing","result":"failed"}\n'


def test_a_relayed_reply_that_is_not_json_is_a_502(caller):
    response = caller.get("/relayed/down/text")
    assert response.status_code == 502
    assert response.get_json()["error"] == "upstream_bad_reply"


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
    with app.test_request_context(), pytest.raises(Exception) as failed:
        service_client().call("GET", "down", "/flaky", retry=False)
    assert getattr(failed.value, "status", None) == 502
    assert downstream.calls["flaky GET"] == 1


# Deadlines (salesync_common.deadlines) and the one layer that retries.

def test_a_call_tells_the_callee_how_much_of_the_deadline_is_left(caller):
    response = caller.get("/within/2000/down/deadline")
    left = int(response.get_json()["body"]["deadline_ms"])
    assert 1000 < left <= 2000


def test_a_call_without_a_deadline_carries_none(caller):
    assert caller.get("/via/down/deadline").get_json()["body"] == {"deadline_ms": None}


def test_a_slow_service_is_waited_for_only_as_long_as_the_deadline_leaves_and_not_tried_again(caller, downstream):
    started = time.monotonic()
    response = caller.get("/within/200/down/slow")
    assert response.status_code == 504
    assert response.get_json()["error"] == "deadline_exceeded"
    assert time.monotonic() - started < 0.5  # the call's own read timeout (0.5 s) was not waited out
    assert downstream.calls["slow"] == 1


def test_no_call_is_made_once_the_deadline_has_passed(caller, downstream):
    response = caller.get("/within/0/down/deadline")
    assert response.status_code == 504
    assert response.get_json()["error"] == "deadline_exceeded"
    assert "deadline" not in downstream.calls


@pytest.fixture
def inner(downstream):
    """A service behind the BFF (service tokens required) whose routes do work or call the downstream service."""
    app = Flask("inner")
    init_service(app, settings_for_tests("order", None, http_get_retries=2, service_urls={"down": downstream.url}))
    require_service_token(app)
    done = []

    @app.get("/work")
    def work():
        done.append(1)
        return jsonify(ok=True)

    @app.get("/via/<path:path>")
    def via(path):
        reply = service_client().get("down", "/" + path)
        return jsonify(status=reply.status, body=reply.body)

    served = ServedApp(app)
    served.done = done
    yield served
    served.shutdown()


@pytest.mark.parametrize("left", ["0", "-25"])
def test_a_service_refuses_a_request_that_arrives_with_no_time_left_and_does_no_work(inner, left):
    response = requests.get(inner.url + "/work", headers={**service_headers("order"), DEADLINE_HEADER: left},
                            timeout=5)
    assert response.status_code == 504
    assert response.json()["error"] == "deadline_exceeded"
    assert response.headers["Retry-After"]
    assert inner.done == []


def test_only_a_service_with_a_valid_token_may_send_a_deadline(inner):
    response = requests.get(inner.url + "/work", headers={DEADLINE_HEADER: "0"}, timeout=5)
    assert response.status_code == 401
    assert inner.done == []


def test_a_service_passes_on_what_is_left_of_its_callers_deadline(inner, downstream):
    response = requests.get(inner.url + "/via/deadline", headers={**service_headers("order"), DEADLINE_HEADER: "900"},
                            timeout=5)
    assert 0 < int(response.json()["body"]["deadline_ms"]) <= 900
    started = time.monotonic()
    response = requests.get(inner.url + "/via/slow", headers={**service_headers("order"), DEADLINE_HEADER: "200"},
                            timeout=5)
    assert response.status_code == 504
    assert response.json()["error"] == "deadline_exceeded"
    assert time.monotonic() - started < 1.0  # not its own 5 s read timeout, nor the downstream's 1.5 s


def test_a_service_answering_another_never_retries_a_get_its_caller_may_retry(inner, downstream):
    downstream.failures_left = 1
    response = requests.get(inner.url + "/via/flaky", headers=service_headers("order"), timeout=5)
    assert response.status_code == 502
    assert downstream.calls["flaky GET"] == 1
    response = requests.get(inner.url + "/via/slow", headers=service_headers("order"), timeout=10)
    assert response.status_code == 200  # its own 5 s read timeout, as the BFF would cut it with its deadline
    assert downstream.calls["slow"] == 1


class ClosesItsFirstConnection:
    """A real HTTP server that reads the first request and hangs up without an answer (as when a pooled
    connection is closed by the callee just as it is reused), then answers every later one."""

    def __init__(self):
        self.requests = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                received = b""
                while b"\r\n\r\n" not in received:
                    received += connection.recv(4096)
                self.requests += 1
                if self.requests > 1:
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
                                       b"Connection: close\r\n\r\n{\"ok\":true}")

    def close(self):
        self.listener.close()


def test_a_service_answering_another_tries_again_when_the_connection_broke_before_any_answer():
    hangs_up = ClosesItsFirstConnection()
    app = Flask("inner-reconnect")
    init_service(app, settings_for_tests("order", None, service_urls={"down": hangs_up.url}))
    require_service_token(app)

    @app.get("/via/<path:path>")
    def via(path):
        return jsonify(service_client().get("down", "/" + path).body)

    try:
        response = app.test_client().get("/via/anything", headers=service_headers("order"))
    finally:
        hangs_up.close()
    assert response.status_code == 200
    assert response.get_json() == {"ok": True}
    assert hangs_up.requests == 2


# A reply's body_or_raise() and parsed(Model): the one way to read another service's answer.

def test_a_2xx_body_is_given_as_it_is_or_as_its_contract_model():
    reply = ServiceReply(200, {"name": "cola", "count": 2, "added_later": True}, {}, "item")
    assert reply.body_or_raise() == {"name": "cola", "count": 2, "added_later": True}
    assert reply.parsed(Thing) == Thing(name="cola", count=2)  # a field the reader does not know is ignored


@pytest.mark.parametrize("body", [{"name": "cola"}, {"name": "cola", "count": "2"}, ["cola", 2], None])
def test_a_2xx_that_does_not_fit_its_contract_is_a_502_naming_the_service(body):
    with pytest.raises(UpstreamError) as failed:
        ServiceReply(200, body, {}, "item").parsed(Thing)
    assert (failed.value.status, failed.value.error) == (502, "upstream_bad_reply")
    assert failed.value.extra == {"service": "item"}


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422, 429])
def test_a_4xx_is_passed_on_with_the_upstream_status_error_and_message(status):
    reply = ServiceReply(status, {"result": "failed", "error": "item_not_found", "message": "no such item"}, {},
                         "item")
    for read in (reply.body_or_raise, lambda: reply.parsed(Thing), lambda: reply.parsed(Thing, error="x", message="y")):
        with pytest.raises(ApiError) as failed:
            read()
        assert not isinstance(failed.value, UpstreamError)
        assert (failed.value.status, failed.value.error, failed.value.message) == (status, "item_not_found",
                                                                                   "no such item")


@pytest.mark.parametrize("body", [{}, {"result": "failed", "error": "", "message": None}, "Not Found", None, []])
def test_a_4xx_without_its_own_error_and_message_gets_the_callers_or_names_the_service(body):
    reply = ServiceReply(409, body, {}, "order")
    with pytest.raises(ApiError) as failed:
        reply.parsed(Thing, error="order_lookup_failed", message="order lookup failed")
    assert (failed.value.status, failed.value.error, failed.value.message) == (409, "order_lookup_failed",
                                                                               "order lookup failed")
    with pytest.raises(ApiError) as failed:
        reply.body_or_raise()
    assert (failed.value.status, failed.value.error, failed.value.message) == (409, "order_failed",
                                                                               "the order service answered 409")


def test_a_reply_read_through_the_client_reaches_the_caller_as_its_own_answer(caller):
    missing = caller.get("/parsed/down/missing")
    assert missing.status_code == 404
    assert missing.get_json() == {"result": "failed", "error": "not_found", "message": "no such thing"}

    other_shape = caller.get("/parsed/down/headers")
    assert other_shape.status_code == 502
    assert other_shape.get_json()["error"] == "upstream_bad_reply" and other_shape.get_json()["service"] == "down"
