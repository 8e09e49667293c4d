"""Bulkheads: each service behind the BFF may hold only so many of a worker's threads at once.

A gunicorn worker of the BFF has a few threads (4: SALESYNC_THREADS locally, GUNICORN_THREADS in the
images); a request holds one for as long as its service takes to answer. A slow (not dead) dashboard
would otherwise take every thread, one owner's report at a time, and the POS's menu, order and payment
calls would queue behind it; the autoscaler does not notice, since a waiting thread uses no CPU. So a
request for a limited service (SALESYNC_BULKHEAD_SLOTS_<SERVICE>) takes one of its slots for the whole
request. When they are all taken it waits a moment for one (SALESYNC_BULKHEAD_WAIT_MS: a healthy
dashboard frees a slot in tens of milliseconds, so a few owners opening charts at once are all served),
then answers a JSON 503 upstream_busy with Retry-After. It waits only while some slot holder is younger
than the wait: when every holder has run longer, the service is slow and the answer comes at once, so
waiting requests do not take the threads the bulkhead keeps for the POS.
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
        self._lock = threading.Lock()
        # One condition per service on the one lock: a freed slot wakes a request waiting for that service,
        # never one waiting for another (still full) service, which would leave the first asleep.
        self._freed = {service: threading.Condition(self._lock) for service in self.slots}
        # When each slot now taken was taken: holders older than the wait say the service is slow.
        self._held_since: dict[str, list[float]] = {service: [] for service in self.slots}

    def in_use(self, service: str) -> int:
        """How many of the service's slots are taken now (0 for a service without a limit)."""
        with self._lock:
            return len(self._held_since.get(service, ()))

    @contextlib.contextmanager
    def slot(self, service: str | None) -> Iterator[None]:
        """Hold one of the service's slots while the block runs; 503 upstream_busy when none is free within the wait."""
        limit = self.slots.get(service) if service else None
        if limit is None:
            yield
            return
        held, freed = self._held_since[service], self._freed[service]
        with freed:
            give_up_at = time.monotonic() + self.wait_seconds
            while (busy := len(held) >= limit) and self._worth_waiting(held, give_up_at):
                freed.wait(give_up_at - time.monotonic())
            if not busy:
                taken_at = time.monotonic()
                held.append(taken_at)
        if busy:
            raise UpstreamError(f"the {service} service is busy with {limit} requests from this server already; "
                                f"try again in {RETRY_AFTER_SECONDS} seconds", status=503, error="upstream_busy",
                                service=service, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        try:
            yield
        finally:
            with freed:
                held.remove(taken_at)
                freed.notify()

    def _worth_waiting(self, held: list[float], give_up_at: float) -> bool:
        """Time is left, and some holder is younger than the wait: a healthy service answers it soon. When every
        holder has run longer than the wait, the service is slow and the request is refused at once, so waiting
        requests never take the threads a slow service would otherwise take."""
        now = time.monotonic()
        return now < give_up_at and any(now - since < self.wait_seconds for since in held)
