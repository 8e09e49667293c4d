"""Bulkheads: each service behind the BFF may hold only so many of a worker's threads at once.

A gunicorn worker of the BFF has a few threads (4: SALESYNC_THREADS locally, GUNICORN_THREADS in the
images); a request holds one for as long as its service takes to answer. A slow (not dead) dashboard
would otherwise take every thread, one owner's report at a time, and the POS's menu, order and payment
calls would queue behind it; the autoscaler does not notice, since a waiting thread uses no CPU. So a
request for a limited service (SALESYNC_BULKHEAD_SLOTS_<SERVICE>) takes one of its slots for the whole
request. When they are all taken it waits a moment for one (SALESYNC_BULKHEAD_WAIT_MS: a healthy
dashboard frees a slot in tens of milliseconds, so a few owners opening charts at once are all served),
then answers a JSON 503 upstream_busy with Retry-After: a slow service keeps its slots, and the wait
stays short.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping

from salesync_common.errors import UpstreamError

RETRY_AFTER_SECONDS = 2


class Bulkheads:
    def __init__(self, slots: Mapping[str, int], *, wait_ms: int = 0):
        self.slots = dict(slots)
        self.wait_seconds = wait_ms / 1000
        self._lock = threading.Condition()
        self._taken = dict.fromkeys(self.slots, 0)

    def in_use(self, service: str) -> int:
        """How many of the service's slots are taken now (0 for a service without a limit)."""
        with self._lock:
            return self._taken.get(service, 0)

    @contextlib.contextmanager
    def slot(self, service: str | None) -> Iterator[None]:
        """Hold one of the service's slots while the block runs; 503 upstream_busy when none is free within the wait."""
        limit = self.slots.get(service) if service else None
        if limit is None:
            yield
            return
        with self._lock:
            give_up_at = time.monotonic() + self.wait_seconds
            while (busy := self._taken[service] >= limit) and (left := give_up_at - time.monotonic()) > 0:
                self._lock.wait(left)
            if not busy:
                self._taken[service] += 1
        if busy:
            raise UpstreamError(f"the {service} service is busy with {limit} requests from this server already; "
                                f"try again in {RETRY_AFTER_SECONDS} seconds", status=503, error="upstream_busy",
                                service=service, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        try:
            yield
        finally:
            with self._lock:
                self._taken[service] -= 1
                self._lock.notify()
