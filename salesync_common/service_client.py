"""The one HTTP client for calls between Salesync services.

Pooled connections, a connect and a read timeout on every call cut to what is left of the request's
deadline (salesync_common.deadlines, passed on in a header), retries with backoff and jitter for GET
only and at the first hop only (a POST is never sent twice by the client), the caller's
Authorization and X-Request-ID forwarded, a service token naming this service and the one called
(salesync_common.service_auth) on every call, and any downstream failure raised as a
502/503/504 UpstreamError that the error handlers turn into JSON. A reply's parsed(Model) gives a 2xx body
as its contract model (salesync_common.contracts) and passes a 4xx on as the caller's own error.
"""
from __future__ import annotations

import contextvars
import dataclasses
import json as jsonlib
import logging
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any, TypeVar

from flask import current_app, g, has_request_context, request
from pydantic import BaseModel, ValidationError

from . import deadlines
from .deadlines import DeadlineExceeded
from .errors import ApiError, UpstreamError
from .http_transport import Answer, ConnectFailed, TimedOut, Transport, TransportFailed, max_idle_seconds
from .request_log import REQUEST_ID_HEADER, current_request_id, new_request_id
from .service_auth import SERVICE_TOKEN_HEADER, ServiceTokens
from .settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
# Threads start on first use, so a gunicorn master that imports this before forking holds none.
_PARALLEL_CALLS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="service-call")


@dataclasses.dataclass(frozen=True)
class ServiceReply:
    status: int
    body: Any
    headers: dict
    service: str = "upstream"  # who answered, for the errors below
    # The JSON exactly as the service sent it, for a caller that passes it on unread (call(relay=True));
    # body is then None.
    raw: bytes | None = None

    @property
    def ok(self) -> bool:
        return HTTPStatus.OK <= self.status < HTTPStatus.MULTIPLE_CHOICES

    def body_or_raise(self, *, error: str | None = None, message: str | None = None) -> Any:
        """The body of a 2xx; a 4xx is passed on as an ApiError with the upstream status, error and message.

        error and message stand in where the 4xx body lacks its own (by default they name the service).
        """
        if self.ok:
            return self.body
        body = self.body if isinstance(self.body, dict) else {}
        raise ApiError(str(body.get("message") or message or f"the {self.service} service answered {self.status}"),
                       status=self.status, error=str(body.get("error") or error or f"{self.service}_failed"))

    def parsed(self, model: type[M], *, error: str | None = None, message: str | None = None) -> M:
        """The body of a 2xx as the contract model (salesync_common.contracts); one that does not fit is a 502.

        A 4xx is passed on as body_or_raise() does.
        """
        body = self.body_or_raise(error=error, message=message)
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            log.warning("the %s service sent a reply that is not a %s: %s", self.service, model.__name__,
                        exc.errors(include_url=False, include_input=False)[:3])
            raise UpstreamError(f"the {self.service} service sent a reply of an unexpected shape",
                                error="upstream_bad_reply", service=self.service) from None


class ServiceClient:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.timeout = (settings.http_connect_timeout, settings.http_read_timeout)
        # Keep-alive connections per thread; retries are ours (call()): each try carries what is left of the
        # deadline. Calls go to the roster's addresses, never through a proxy.
        self._transport = Transport(max_idle=max_idle_seconds(os.environ))
        self.service_tokens = ServiceTokens(issuer=settings.service, secret=settings.service_secret)

    def url_for(self, service: str, path: str) -> str:
        base = self.settings.service_urls[service].rstrip("/")
        return base + path

    def forwarded_headers(self, token: str | None = None) -> dict:
        headers = {REQUEST_ID_HEADER: current_request_id.get() or new_request_id()}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        elif has_request_context() and request.headers.get("Authorization"):
            headers["Authorization"] = request.headers["Authorization"]
        return headers

    def call(self, method: str, service: str, path: str, *, params: dict | None = None,
             json: Any = None, token: str | None = None, headers: dict | None = None,
             timeout: tuple[float, float] | None = None, retry: bool = True,
             passed_on: tuple[int, ...] = (), relay: bool = False) -> ServiceReply:
        """Call another service; 4xx replies are returned, transport failures and 5xx raise.

        Within a request's deadline (salesync_common.deadlines) each try waits at most what is left, and
        no call is made once nothing is left (a 504 deadline_exceeded). GETs are retried (with backoff
        and jitter, while time is left) at the first hop only: by the BFF, or a worker outside any
        request. A service answering another tries a GET again only when the connection broke before
        any answer (say a pooled connection the callee had just closed), which cost the callee nothing;
        never after a timeout or a 5xx, or one slow service would see the retries of every layer
        multiplied. retry=False opts out (a GET that starts work).
        passed_on: 5xx statuses the service answers on purpose (a JSON error, e.g. a 503 with Retry-After),
        returned like a 4xx.
        relay: the reply's JSON is not parsed but kept as sent (ServiceReply.raw), for a caller that passes
        it on as it is (the BFF's gateway: a menu of 2,000 items is some 250 KB to parse and write again).
        """
        method = method.upper()
        tries = 1 + (self.settings.http_get_retries if method == "GET" and retry else 0)
        first_hop = not _serving_a_service()
        all_headers = self.forwarded_headers(token)
        all_headers.update(headers or {})
        all_headers[SERVICE_TOKEN_HEADER] = self.service_tokens.token_for(service)
        data = compact_json(json, all_headers)
        url = self.url_for(service, path)
        attempt = 0
        while True:
            try:
                response = self._send(method, service, url, params=params, data=data, headers=all_headers,
                                      timeout=timeout or self.timeout, resend=tries > 1)
            except UpstreamError as failure:
                retried = failure.error == _NO_CONNECTION or (first_hop and not isinstance(failure, DeadlineExceeded))
                if not retried or not _may_try_again(attempt, tries):
                    raise
            else:
                retried = first_hop and response.status in _RETRIED_STATUSES
                if not retried or not _may_try_again(attempt, tries):
                    return self._reply(method, service, url, response, passed_on, relay=relay)
            attempt += 1

    def _send(self, method: str, service: str, url: str, *, params, data: bytes | None, headers: dict,
              timeout: tuple[float, float], resend: bool) -> Answer:
        """One try, bounded by the deadline: the header tells the callee what is left when it is sent. The
        read timeout bounds the whole try (on loopback or in a cluster a connection takes well under a
        millisecond, and most tries reuse one), the connect timeout the connection within it."""
        total = timeout[1]
        connect = min(timeout[0], total)
        left = deadlines.remaining()
        if left is not None:
            if left < deadlines.MIN_CALL_SECONDS:
                raise deadlines.expired(f"before the {service} service could be called")
            headers[deadlines.DEADLINE_HEADER] = str(int(left * 1000))
            connect, total = min(connect, left), min(total, left)
        try:
            return self._transport.send(method, url, params=params, body=data, headers=headers,
                                        connect_timeout=connect, timeout=total, resend=resend)
        except ConnectFailed:
            raise self._failure(503, _NO_CONNECTION, service, "cannot be reached") from None
        except TimedOut:
            raise self._timed_out(service) from None
        except TransportFailed as exc:
            log.warning("call to %s failed: %s", service, exc)
            raise self._failure(502, "upstream_failed", service, "failed") from None

    def _reply(self, method: str, service: str, url: str, response: Answer,
               passed_on: tuple[int, ...], *, relay: bool = False) -> ServiceReply:
        if response.status >= HTTPStatus.INTERNAL_SERVER_ERROR and response.status not in passed_on:
            log.warning("%s %s answered %s", method, url, response.status)
            if response.status == HTTPStatus.GATEWAY_TIMEOUT and _error_of(response) == DeadlineExceeded.error:
                raise deadlines.expired(f"in the {service} service")
            raise self._failure(502, "upstream_error", service, f"answered {response.status}")
        if relay:
            if response.body and not _says_json(response.headers):
                raise self._failure(502, "upstream_bad_reply", service, "sent a reply that is not JSON")
            return ServiceReply(response.status, None, response.headers, service, raw=response.body)
        try:
            body = jsonlib.loads(response.body) if response.body else None
        except ValueError:
            raise self._failure(502, "upstream_bad_reply", service, "sent a reply that is not JSON") from None
        return ServiceReply(response.status, body, response.headers, service)

    def get(self, service: str, path: str, **kwargs) -> ServiceReply:
        return self.call("GET", service, path, **kwargs)

    def post(self, service: str, path: str, **kwargs) -> ServiceReply:
        return self.call("POST", service, path, **kwargs)

    def put(self, service: str, path: str, **kwargs) -> ServiceReply:
        return self.call("PUT", service, path, **kwargs)

    def delete(self, service: str, path: str, **kwargs) -> ServiceReply:
        return self.call("DELETE", service, path, **kwargs)

    @staticmethod
    def _failure(status: int, error: str, service: str, what: str) -> UpstreamError:
        return UpstreamError(f"the {service} service {what}", status=status, error=error, service=service)

    def _timed_out(self, service: str) -> UpstreamError:
        """A read that ran out: the request's deadline when that is what cut it short, else the call's own timeout."""
        left = deadlines.remaining()
        if left is not None and left < deadlines.MIN_CALL_SECONDS:
            return deadlines.expired(f"waiting for the {service} service")
        return self._failure(504, "upstream_timeout", service, "did not answer in time")

    def close(self) -> None:
        self._transport.close()


# No answer and no timeout: the connection was refused or broke before the callee answered.
_NO_CONNECTION = "upstream_unavailable"
# A GET answered with these may be tried again (the old urllib3 status_forcelist).
_RETRIED_STATUSES = frozenset({HTTPStatus.BAD_GATEWAY, HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.GATEWAY_TIMEOUT})
_BACKOFF_SECONDS = 0.05
_BACKOFF_MAX_SECONDS = 1.0


def _serving_a_service() -> bool:
    """This call is made while answering another Salesync service (require_service_token verified it)."""
    return has_request_context() and g.get("calling_service") is not None


def _may_try_again(attempt: int, tries: int) -> bool:
    """Wait out the backoff before another try, if one is left and the deadline leaves time for it."""
    if attempt + 1 >= tries:
        return False
    pause = min(_BACKOFF_SECONDS * 2 ** attempt + random.uniform(0, _BACKOFF_SECONDS), _BACKOFF_MAX_SECONDS)
    left = deadlines.remaining()
    if left is not None and left - pause < deadlines.MIN_CALL_SECONDS:
        return False
    time.sleep(pause)
    return True


def _says_json(headers: dict[str, str]) -> bool:
    content_type = next((value for name, value in headers.items() if name.lower() == "content-type"), "")
    return content_type.split(";")[0].strip().lower() == "application/json"


def _error_of(response: Answer) -> str | None:
    try:
        body = jsonlib.loads(response.body)
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def service_client() -> ServiceClient:
    return current_app.extensions["salesync_client"]


def compact_json(value: Any, headers: dict) -> bytes | None:
    """A JSON body as compact UTF-8, no larger than the body the BFF accepted and passes on (requests'
    json= spells every non-ASCII character as six bytes and pads the separators, which could carry a
    body under the 64 KB limit over it at the owning service)."""
    if value is None:
        return None
    headers.setdefault("Content-Type", "application/json")
    text = jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        # A lone surrogate ("\\ud800" in the body the BFF read) is no character: pass it on escaped, as it
        # came, so that the owning service refuses it with a 400 naming the field (it was a 500 here).
        return jsonlib.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def call_in_parallel(*calls: Callable[[], T]) -> list[T]:
    """Run independent service calls at once; their results in order, or the first call's error.

    Each runs in a copy of the caller's context, so the request (its token) and the request id
    are forwarded as from the caller's own thread. A report then waits for its slowest source
    instead of the sum of them.
    """
    futures = [_PARALLEL_CALLS.submit(contextvars.copy_context().run, call) for call in calls]
    return [future.result() for future in futures]
