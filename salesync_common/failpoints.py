"""Failpoints: named places where a test may make the process die, to prove crash recovery.

Inactive unless SALESYNC_FAILPOINTS names them (comma-separated); never set in production.
"""
from __future__ import annotations

import os


def failpoint(name: str) -> None:
    active = os.environ.get("SALESYNC_FAILPOINTS", "")
    if active and name in active.split(","):
        os._exit(137)  # like kill -9: no cleanup, no response
