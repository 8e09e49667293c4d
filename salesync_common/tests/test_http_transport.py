"""The libcurl wire under the service client, against a raw HTTP/1.1 server that keeps connections alive and
can misbehave on the second request of a connection."""
import socket
import threading
import time

import pytest

from salesync_common.http_transport import ConnectFailed, TimedOut, Transport

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class KeepAliveServer:
    """Answers every request on a connection, except what `second` says for the connection's second one:
    "die" reads it, then closes without answering (a worker killed mid-request); "stall" answers late."""

    def __init__(self, second: str | None = None):
        self.second = second
        self.requests: list[tuple[int, bytes]] = []  # (connection number, request head)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/x"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        number = 0
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            number += 1
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int):
        with conn:
            for turn in (1, 2, 3):
                head = _read_request(conn)
                if head is None:
                    return
                self.requests.append((number, head))
                if turn == 2 and self.second == "die":
                    return
                if turn == 2 and self.second == "stall":
                    time.sleep(1)
                conn.sendall(ANSWER)

    def close(self):
        self._sock.close()


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += conn.recv(65536)
    return head


@pytest.fixture
def transport():
    transport = Transport()
    yield transport
    transport.close()


def _send(transport, server, method="GET", **kwargs):
    kwargs.setdefault("headers", {})
    return transport.send(method, server.url, connect_timeout=1, timeout=2, **kwargs)


def test_a_post_whose_reused_connection_dies_unanswered_is_not_sent_again(transport):
    server = KeepAliveServer(second="die")
    assert _send(transport, server).status == 200
    with pytest.raises(ConnectFailed):
        _send(transport, server, "POST", body=b'{"total":1000}', headers={"Content-Type": "application/json"})
    posts = [number for number, head in server.requests if head.startswith(b"POST")]
    assert posts == [1], "the callee may have done the work: a second POST would do it twice"
    server.close()


def test_a_repeatable_get_whose_reused_connection_dies_goes_out_again_on_a_fresh_one(transport):
    server = KeepAliveServer(second="die")
    assert _send(transport, server).status == 200
    assert _send(transport, server, resend=True).status == 200
    assert [number for number, _ in server.requests] == [1, 1, 2]
    server.close()


def test_a_late_answer_on_a_reused_connection_is_a_timeout_not_a_connection_failure(transport):
    server = KeepAliveServer(second="stall")
    assert _send(transport, server).status == 200
    with pytest.raises(TimedOut):
        transport.send("GET", server.url, headers={}, connect_timeout=0.2, timeout=0.3)
    server.close()


def test_a_header_value_outside_ascii_goes_out_in_latin_1(transport):
    server = KeepAliveServer()
    assert _send(transport, server, headers={"Idempotency-Key": "caf\xe9"}).status == 200
    assert b"Idempotency-Key: caf\xe9" in server.requests[0][1]
    server.close()


def test_a_header_with_an_empty_value_is_sent_not_left_out(transport):
    server = KeepAliveServer()
    assert _send(transport, server, headers={"Idempotency-Key": ""}).status == 200
    assert b"\r\nIdempotency-Key:" in server.requests[0][1]
    server.close()


def test_a_proxy_in_the_environment_is_not_used(transport, monkeypatch):
    server, proxy = KeepAliveServer(), KeepAliveServer()
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.url.removesuffix("/x"))
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert _send(transport, server, headers={"Authorization": "Bearer secret"}).status == 200
    assert proxy.requests == [] and len(server.requests) == 1
    server.close()
    proxy.close()


def test_a_connection_idle_longer_than_the_limit_is_made_again_not_reused():
    """The callee (gunicorn) closes a connection idle past its keep-alive: the client must not reuse one that
    old, or a POST could meet the close and fail."""
    server = KeepAliveServer()
    transport = Transport(max_idle=1)
    try:
        for pause in (0, 0.2, 1.6):
            time.sleep(pause)
            transport.send("GET", server.url, headers={}, connect_timeout=1, timeout=2)
    finally:
        transport.close()
        server.close()
    # the second call reused the first connection; the third, after 1.6 s idle, made a new one
    assert [number for number, _ in server.requests] == [1, 1, 2]
