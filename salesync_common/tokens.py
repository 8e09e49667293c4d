"""Access tokens: HS256 JWTs with a string `sub` (the store id), `iat`, `exp` and a `jti`.

The store service issues them; every service verifies them with the same secret. Any
token problem answers 401 JSON: missing header, `Bearer null`, a bad signature, expiry,
`alg: none` or a `sub` that is not a store id.
"""
from __future__ import annotations

import functools
import re
import time
import uuid

import jwt
from flask import current_app, g, request

from .errors import Unauthorized
from .verified_tokens import VERIFIED

ALGORITHM = "HS256"
# A store id as issue_token writes it: ASCII digits only (str.isdigit also takes "²" and "١٢"), and
# few enough for a 64-bit id.
_STORE_ID = re.compile(r"[0-9]{1,18}", re.ASCII)


def issue_token(*, store_id: int, secret: str, ttl_seconds: int, now: float | None = None) -> str:
    issued_at = int(now if now is not None else time.time())
    claims = {
        "sub": str(store_id),
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "type": "access",
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str, *, secret: str) -> int:
    """Return the store id the token was issued to, or raise Unauthorized."""
    return int(verified_claims(token, secret=secret)["sub"])


def verified_claims(token: str, *, secret: str) -> dict:
    """The claims of a valid token (its `sub` a store id), or raise Unauthorized (a token verified
    before in this process is taken from the table of verified tokens until its `exp`)."""
    claims = VERIFIED.verified(("store", secret, token), lambda: _checked_claims(token, secret=secret))
    return dict(claims)


def _checked_claims(token: str, *, secret: str) -> tuple[dict, float]:
    if not token or token in ("null", "undefined"):
        raise Unauthorized("a login token is required", error="missing_token")
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the login token has expired", error="token_expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("the login token is not valid", error="invalid_token") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not _STORE_ID.fullmatch(sub) or int(sub) <= 0:
        raise Unauthorized("the login token is not valid", error="invalid_token")
    return claims, claims["exp"]


def ended_by_password_change(claims: dict, *, changed_at: float | None, changed_by: str | None) -> bool:
    """A token issued before the store's last password change is ended, except the one that made the change.

    `iat` counts whole seconds, so a token issued in the second of the change (before or after it) lives on:
    an owner who logs in right after changing the password must not be turned away.
    """
    if changed_at is None or changed_by is None:
        return False
    if claims.get("jti") == changed_by:
        return False
    return int(claims.get("iat", 0)) < int(changed_at)


class SessionEnded(Unauthorized):
    error = "session_ended"

    def __init__(self):
        super().__init__("this login ended when the store's password was changed; log in again")


def bearer_token_from_request() -> str:
    header = request.headers.get("Authorization", "")
    if not header:
        raise Unauthorized("the Authorization header is missing", error="missing_token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("the Authorization header must be 'Bearer <token>'", error="invalid_token")
    return token.strip()


def authenticated_store_id() -> int:
    """The store id of the verified token on this request (cached on flask.g)."""
    if g.get("store_id") is None:
        settings = current_app.extensions["salesync_settings"]
        g.token_claims = verified_claims(bearer_token_from_request(), secret=settings.jwt_secret)
        g.store_id = int(g.token_claims["sub"])
    return g.store_id


def login_required(view):
    """Reject the request with 401 unless it carries a valid token; the view reads g.store_id."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        authenticated_store_id()
        return view(*args, **kwargs)
    return wrapper
