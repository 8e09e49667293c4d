"""Liveness for the processes without an HTTP server: the consulting worker and the dashboard consumer.

Each loop of the process beats when it goes round. While every loop has beaten within its
allowance, the process touches a file (SALESYNC_LIVENESS_FILE; unset, nothing is written). The
Kubernetes liveness probe and the compose health check run

    python -m salesync_common.liveness <file> <seconds>

which fails when the file is missing or older than that. A process whose loops are stuck (a call
that never returns, a thread that died) is then restarted instead of silently doing nothing.
"""
from __future__ import annotations

import os
import pathlib
import sys
import threading
import time
from collections.abc import Callable

TOUCH_EVERY_SECONDS = 1.0


class Liveness:
    def __init__(self, path: str | os.PathLike | None, *, clock: Callable[[], float] = time.monotonic):
        self.path = pathlib.Path(path) if path else None
        self.clock = clock
        self.allowances: dict[str, float] = {}
        self.last_beats: dict[str, float] = {}
        self.last_touch = float("-inf")
        self.lock = threading.Lock()

    @classmethod
    def from_env(cls, env=os.environ) -> Liveness:
        return cls(env.get("SALESYNC_LIVENESS_FILE") or None)

    def expect(self, loop: str, within_seconds: float) -> None:
        """`loop` goes round at least every `within_seconds` while the process is healthy."""
        with self.lock:
            self.allowances[loop] = within_seconds
            self.last_beats[loop] = self.clock()

    def beat(self, loop: str) -> None:
        now = self.clock()
        with self.lock:
            self.last_beats[loop] = now
            if self.path is None or now - self.last_touch < TOUCH_EVERY_SECONDS or self._stalled(now):
                return
            self.last_touch = now
        self.path.touch()

    def stalled(self) -> list[str]:
        """The loops that have not gone round within their allowance."""
        with self.lock:
            return self._stalled(self.clock())

    def _stalled(self, now: float) -> list[str]:
        return sorted(loop for loop, allowed in self.allowances.items() if now - self.last_beats[loop] > allowed)


def is_fresh(path: str | os.PathLike, max_age_seconds: float) -> bool:
    try:
        age = time.time() - os.stat(path).st_mtime
    except OSError:
        return False
    return age <= max_age_seconds


def main(argv: list[str]) -> int:
    try:
        path, seconds = argv
    except ValueError:
        print("usage: python -m salesync_common.liveness <file> <seconds>", file=sys.stderr)
        return 2
    max_age = float(seconds)
    if is_fresh(path, max_age):
        return 0
    print(f"{path} is missing or older than {max_age:g} s: the process's loops are stuck", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
