"""bcrypt password hashing."""
from __future__ import annotations

import functools

import bcrypt


def hash_password(password: str, *, rounds: int) -> str:
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds)).decode()


def password_matches(password: str, password_hash: str | None, *, rounds: int) -> bool:
    """Compare in constant time; with no hash (unknown user) still spend the same work."""
    candidate = password.encode()[:72]
    if password_hash is None:
        bcrypt.checkpw(candidate, _dummy_hash(rounds))
        return False
    return bcrypt.checkpw(candidate, password_hash.encode())


@functools.lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds))
