"""Bulkheads: each service behind the BFF may hold only so many of a worker's threads at once.

A gunicorn worker of the BFF has a few threads (SALESYNC_THREADS); a request holds one for as long as its
service takes to answer. A slow (not dead) dashboard would otherwise take every thread, one owner's report
at a time, and the POS's menu, order and payment calls would queue behind it; the autoscaler does not
notice, since a waiting thread uses no CPU. So a request for a limited service (SALESYNC_BULKHEAD_SLOTS_<SERVICE>)
takes one of its slots for the whole request, and when they are all taken it is answered at once with a
JSON 503 upstream_busy and Retry-After, without waiting.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping

from salesync_common.errors import UpstreamError

RETRY_AFTER_SECONDS = 2


class Bulkheads:
    def __init__(self, slots: Mapping[str, int]):
        self.slots = dict(slots)
        self._free = {service: threading.BoundedSemaphore(limit) for service, limit in slots.items()}

    @contextlib.contextmanager
    def slot(self, service: str | None) -> Iterator[None]:
        free = self._free.get(service) if service else None
        if free is None:
            yield
            return
        if not free.acquire(blocking=False):
            raise UpstreamError(f"the {service} service is busy with {self.slots[service]} requests from this "
                                f"server already; try again in {RETRY_AFTER_SECONDS} seconds", status=503,
                                error="upstream_busy", service=service,
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        try:
            yield
        finally:
            free.release()
