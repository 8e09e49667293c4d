"""One HTTP/1.1 exchange with another service, through libcurl (pycurl): the wire under service_client.

requests spent about 0.9 ms of CPU per call here (preparing, merging settings, cookie jars, adapters,
http.client's header parsing), half the BFF's CPU for a menu read; libcurl does the same exchange in
about 0.14 ms. Each thread keeps its own curl handle, and with it its own keep-alive connections: a
handle is never used by two threads at once, and gunicorn's threads and the parallel-call pool live
as long as the process.

Only what the service client needs: a method, a URL with its query, headers, a body, a connect timeout
and a total timeout; the answer's status, headers and body. Failures come back as one of three
exceptions, so the client decides what each means for its caller.

libcurl sends a request again, on a fresh connection, when a keep-alive connection it reused closes
before a single byte of the answer came back. That is not only a connection the callee closed idle just
as it was reused: a callee that read the request, did the work and died before answering (a worker
killed mid-request) looks the same. So libcurl may send again only when the caller says the request may
be repeated (resend=True: a GET the service client would retry itself); any other request fails as
ConnectFailed instead of reaching the callee twice.
"""
from __future__ import annotations

import dataclasses
import io
import threading
import urllib.parse
import weakref
from collections.abc import Iterable, Mapping

import pycurl

from .settings import int_setting

# Connections one thread keeps open: one per service it calls, with room to spare.
MAX_CONNECTIONS_PER_THREAD = 16
# A connection idle longer than this is not reused but closed and made again. gunicorn closes one idle for
# SALESYNC_KEEPALIVE_SECONDS (75); reusing only younger ones keeps a POST off a connection the callee is
# closing just then (which fails it: see the module's docstring).
KEEPALIVE_MARGIN_SECONDS = 15


def max_idle_seconds(env: Mapping[str, str]) -> int:
    return max(1, int_setting(env, "SALESYNC_KEEPALIVE_SECONDS", 75, minimum=1) - KEEPALIVE_MARGIN_SECONDS)


class ConnectFailed(Exception):
    """No connection: refused, unreachable, not made within the connect timeout, or closed before any
    byte of an answer."""


class TimedOut(Exception):
    """Connected, but the answer did not come within the timeout."""


class TransportFailed(Exception):
    """Anything else that broke the exchange."""


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # as the callee spelled their names
    body: bytes


# libcurl's codes for a connection that was never made or died before an answer began.
_NO_CONNECTION = frozenset({pycurl.E_COULDNT_CONNECT, pycurl.E_COULDNT_RESOLVE_HOST, pycurl.E_GOT_NOTHING,
                            pycurl.E_SEND_ERROR, pycurl.E_RECV_ERROR})


def query_string(params: dict | Iterable[tuple[str, object]] | None) -> str:
    """params as a URL query: a dict (a list value repeats its key) or (name, value) pairs; None values are
    left out."""
    if not params:
        return ""
    pairs = params.items() if isinstance(params, dict) else params
    flat = []
    for name, value in pairs:
        for one in (value if isinstance(value, list | tuple) else [value]):
            if one is not None:
                flat.append((name, one))
    return urllib.parse.urlencode(flat)


class Transport:
    def __init__(self, *, max_idle: int = 60):
        self.max_idle = max_idle
        self._local = threading.local()
        self._handles: weakref.WeakSet = weakref.WeakSet()

    def _handle(self) -> pycurl.Curl:
        handle = getattr(self._local, "handle", None)
        if handle is None:
            handle = self._local.handle = pycurl.Curl()
            self._handles.add(handle)
        return handle

    def send(self, method: str, url: str, *, params=None, body: bytes | None = None, headers: dict[str, str],
             connect_timeout: float, timeout: float, resend: bool = False) -> Answer:
        """One exchange; raises ConnectFailed, TimedOut or TransportFailed. resend: the request may go out
        a second time when a reused connection dies before any answer (see the module's docstring)."""
        query = query_string(params)
        if query:
            url += ("&" if "?" in url else "?") + query
        handle = self._handle()
        handle.reset()  # keeps the handle's open connections; forgets the last call's options
        received = io.BytesIO()
        header_lines: list[bytes] = []
        handle.setopt(pycurl.URL, url)
        handle.setopt(pycurl.NOSIGNAL, 1)  # timeouts without SIGALRM: several threads call at once
        # Straight to the roster's address: libcurl would otherwise take a proxy from http_proxy or all_proxy
        # in the environment (requests did too, until trust_env=False), and hand it our service tokens.
        handle.setopt(pycurl.PROXY, "")
        handle.setopt(pycurl.MAXCONNECTS, MAX_CONNECTIONS_PER_THREAD)
        handle.setopt(pycurl.MAXAGE_CONN, self.max_idle)
        handle.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(connect_timeout * 1000)))
        handle.setopt(pycurl.TIMEOUT_MS, max(1, int(timeout * 1000)))
        # No "Expect: 100-continue" round trip before a body: the callee is ours and reads every body.
        handle.setopt(pycurl.HTTPHEADER, [_header_line(name, value) for name, value in headers.items()] + [b"Expect:"])
        handle.setopt(pycurl.WRITEDATA, received)
        handle.setopt(pycurl.HEADERFUNCTION, header_lines.append)
        if body is not None:
            handle.setopt(pycurl.POSTFIELDSIZE, len(body))
            handle.setopt(pycurl.COPYPOSTFIELDS, body)
        if method != ("POST" if body is not None else "GET"):
            handle.setopt(pycurl.CUSTOMREQUEST, method)
        sends: list[None] = []
        handle.setopt(pycurl.PREREQFUNCTION, _before_each_send(sends, resend))
        try:
            handle.perform()
        except pycurl.error as exc:
            raise _failure(exc, sent=len(sends)) from None
        return Answer(handle.getinfo(pycurl.RESPONSE_CODE), _headers_of(header_lines), received.getvalue())

    def close(self) -> None:
        for handle in list(self._handles):
            handle.close()
        self._handles = weakref.WeakSet()
        self._local = threading.local()


def _header_line(name: str, value: str) -> bytes:
    """One request header for libcurl, in latin-1 as http.client sent it: pycurl takes a str only in ASCII,
    and a browser's header (an Authorization or Idempotency-Key the BFF forwards) may hold any latin-1
    character. An empty value is spelled "name;": "name:" tells libcurl to leave the header out, and an
    empty Idempotency-Key must reach the service to be refused, not vanish and let the write run unkeyed."""
    return (f"{name}: {value}" if value.strip() else f"{name};").encode("latin-1")


def _before_each_send(sends: list[None], resend: bool):
    """libcurl's call once a connection is made or reused, just before the request goes out on it."""
    def before_send(*_addresses) -> int:
        sends.append(None)
        return pycurl.PREREQFUNC_OK if resend or len(sends) == 1 else pycurl.PREREQFUNC_ABORT
    return before_send


def _failure(exc: pycurl.error, *, sent: int) -> Exception:
    code = exc.args[0] if exc.args else None
    message = exc.args[1] if len(exc.args) > 1 else str(exc)
    if code == pycurl.E_OPERATION_TIMEDOUT:
        # Nothing sent yet: the connect timeout, which says nothing of the callee's work. (A reused
        # connection has no connect time of its own, so whether the request went out is what tells.)
        return TimedOut(message) if sent else ConnectFailed(message)
    if code in _NO_CONNECTION or (code == pycurl.E_ABORTED_BY_CALLBACK and sent > 1):
        return ConnectFailed(message)
    return TransportFailed(message)


def _headers_of(lines: list[bytes]) -> dict[str, str]:
    """The last answer's headers (an interim 1xx answer's come first and are dropped)."""
    headers: dict[str, str] = {}
    for raw in lines:
        line = raw.decode("latin-1").rstrip("\r\n")
        if line.startswith("HTTP/"):
            headers = {}
        elif ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
    return headers
