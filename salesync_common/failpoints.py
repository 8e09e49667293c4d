"""Failpoints: named places where a test or a drill may make the process die or stall, to prove crash
recovery and that a slow service harms no other.

Inactive unless SALESYNC_FAILPOINTS names them (comma-separated; the process dies there) or
SALESYNC_FAILPOINT_DELAYS gives them a delay (comma-separated name=milliseconds; the request waits that
long there). Set only by tests and drills: never in production, where delays are ignored.
"""
from __future__ import annotations

import os
import time


def failpoint(name: str) -> None:
    active = os.environ.get("SALESYNC_FAILPOINTS", "")
    if active and name in active.split(","):
        os._exit(137)  # like kill -9: no cleanup, no response


def delay_point(name: str) -> None:
    """Wait here as long as SALESYNC_FAILPOINT_DELAYS says for `name` (like a service that is slow, not dead)."""
    delays = os.environ.get("SALESYNC_FAILPOINT_DELAYS", "")
    if not delays or os.environ.get("SALESYNC_ENV", "").strip().lower() == "production":
        return
    for entry in delays.split(","):
        point, _, milliseconds = entry.partition("=")
        if point.strip() == name and milliseconds.strip().isdigit():
            time.sleep(int(milliseconds) / 1000)
            return
