"""Services prove who they are: a short-lived HS256 token, signed with SALESYNC_SERVICE_SECRET.

A store's token says which store a request acts for; it proves nothing about who sends it, and
any store can get one by signing up. So every call between services also carries a service
token in its own header (SERVICE_TOKEN_HEADER): `iss` and `sub` name the calling service, `aud`
the service called, `exp` about a minute on. The caller mints one per audience and reuses it
until it is close to expiry (ServiceTokens, used by the service client).

Every route of a service behind the BFF refuses a request without a valid token for its own
audience (require_service_token, installed by each service's create_app); health and metrics
stay open for probes and Prometheus. A route that only one caller may use says so with
@called_by("sale"): any other service, with a valid token, answers 403.
"""
from __future__ import annotations

import functools
import threading
import time
import uuid

import jwt
from flask import Flask, current_app, g, request

from . import roster
from .deadlines import honour_caller_deadline
from .errors import Forbidden, Unauthorized
from .verified_tokens import VERIFIED

ALGORITHM = "HS256"
SERVICE_TOKEN_HEADER = "X-Service-Token"
# The address the BFF decided the browser's request came from; believed only from the BFF (client_address).
CLIENT_ADDRESS_HEADER = "X-Salesync-Client-Address"
TOKEN_SECONDS = 60
RENEW_BEFORE_SECONDS = 15  # a cached token is replaced when less than this is left of it
# Probes and the metrics scrape carry no token: kubelet and Prometheus are no Salesync service.
OPEN_ENDPOINTS = frozenset({"health.healthz", "health.readyz", "metrics.metrics"})
KNOWN_SERVICES = frozenset(service.name for service in roster.SERVICES)


def issue_service_token(*, issuer: str, audience: str, secret: str, ttl_seconds: int = TOKEN_SECONDS,
                        now: float | None = None) -> str:
    issued_at = int(now if now is not None else time.time())
    claims = {"iss": issuer, "sub": issuer, "aud": audience, "iat": issued_at, "exp": issued_at + ttl_seconds,
              "jti": uuid.uuid4().hex, "type": "service"}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_service_token(token: str, *, secret: str, audience: str) -> str:
    """The calling service's name; 401 for a missing or invalid token, 403 for a token meant for another service
    (a token verified before in this process is taken from the table of verified tokens until its `exp`)."""
    return VERIFIED.verified(("service", secret, audience, token),
                             lambda: _checked_service_token(token, secret=secret, audience=audience))


def _checked_service_token(token: str, *, secret: str, audience: str) -> tuple[str, float]:
    if not token:
        raise Unauthorized("this route is only for Salesync services: a service token is required",
                           error="service_token_required")
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=audience,
                            options={"require": ["iss", "sub", "aud", "exp", "iat"]})
    except jwt.InvalidAudienceError:
        raise Forbidden("the service token is meant for another service", error="wrong_audience") from None
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the service token has expired", error="service_token_expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("the service token is not valid", error="invalid_service_token") from None
    issuer = claims["iss"]
    if claims.get("type") != "service" or claims["sub"] != issuer or issuer not in KNOWN_SERVICES:
        raise Unauthorized("the service token is not valid", error="invalid_service_token")
    return issuer, claims["exp"]


class ServiceTokens:
    """One token per audience for the calling service, reused until RENEW_BEFORE_SECONDS before expiry."""

    def __init__(self, *, issuer: str, secret: str, ttl_seconds: int = TOKEN_SECONDS, clock=time.time):
        self.issuer = issuer
        self.secret = secret
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    def token_for(self, audience: str) -> str:
        now = self.clock()
        with self._lock:
            cached = self._tokens.get(audience)
            if cached is not None and cached[1] - now > RENEW_BEFORE_SECONDS:
                return cached[0]
            token = issue_service_token(issuer=self.issuer, audience=audience, secret=self.secret,
                                        ttl_seconds=self.ttl_seconds, now=now)
            self._tokens[audience] = (token, int(now) + self.ttl_seconds)
            return token


def calling_service() -> str:
    """The verified name of the service that sent this request (require_service_token set it)."""
    return g.calling_service


def client_address() -> str:
    """The client address of this request: the one the BFF passed on (only the BFF is believed), else the peer."""
    passed_on = request.headers.get(CLIENT_ADDRESS_HEADER, "").strip()
    if passed_on and g.get("calling_service") == "bff":
        return passed_on[:64]
    return (request.remote_addr or "unknown")[:64]


def _check_service_token() -> None:
    if request.endpoint in OPEN_ENDPOINTS:
        return
    settings = current_app.extensions["salesync_settings"]
    g.calling_service = verify_service_token(request.headers.get(SERVICE_TOKEN_HEADER, "").strip(),
                                             secret=settings.service_secret, audience=settings.service)


def require_service_token(app: Flask) -> None:
    """Every route of `app` but health and metrics answers only to a Salesync service with a token for it,
    within the deadline that service passed on (a request that arrives with none left does no work)."""
    app.before_request(_check_service_token)
    app.before_request(honour_caller_deadline)  # after the check: only a verified service sets a deadline


def called_by(*services: str):
    """Only these services may call the route (their verified service token names them); others answer 403."""
    allowed = frozenset(services)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            caller = g.get("calling_service")
            if caller not in allowed:
                raise Forbidden(f"only the {' or '.join(sorted(allowed))} service may call this route",
                                error="caller_not_allowed")
            return view(*args, **kwargs)
        return wrapper
    return decorate
