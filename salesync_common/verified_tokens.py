"""Tokens this process has already verified, kept with what their verification gave until they expire.

Every hop verifies two HS256 JWTs (the store's token and the calling service's token); PyJWT's
decode, claim checks and HMAC were a tenth of the CPU of a small read in a service. A POS sends
the same store token all day and a service reuses its service token for most of a minute, so a
token string verified once (with the same secret and audience) is not verified again until its
`exp`. Only tokens that passed every check are kept, so a forged or broken token costs the full
check each time and cannot fill the table; the table is bounded (SALESYNC_VERIFIED_TOKENS_KEPT,
0 turns this off) and emptied when full.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class VerifiedTokens:
    def __init__(self, *, max_entries: int, clock: Callable[[], float] = time.time):
        self.max_entries = max_entries
        self.clock = clock
        self._kept: dict[Hashable, tuple[object, float]] = {}

    def verified(self, key: Hashable, verify: Callable[[], tuple[T, float]]) -> T:
        """What verify() returned for this key while its expiry (a Unix time) is ahead; else verify() again.

        verify returns (value, expires_at) or raises; a raise is not kept."""
        kept = self._kept.get(key)
        if kept is not None and self.clock() < kept[1]:
            return kept[0]  # type: ignore[return-value]
        value, expires_at = verify()
        if self.max_entries > 0:
            if len(self._kept) >= self.max_entries:
                self._kept.clear()  # bounded without bookkeeping: the live tokens come back at their next use
            self._kept[key] = (value, expires_at)
        return value


# One table per process (the keys carry the secret and the audience, so apps of one process do not mix).
VERIFIED = VerifiedTokens(max_entries=4096)
