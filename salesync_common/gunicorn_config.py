"""gunicorn settings every service shares (`gunicorn --config python:salesync_common.gunicorn_config`).

Only what cannot be a command-line flag: a server hook. The bind address, workers and threads
stay on the command line, where the Dockerfiles and `make run` set them from the environment.
"""
from __future__ import annotations

import os

from prometheus_client import multiprocess


def child_exit(server, worker):
    """A worker is gone (restarted, or killed mid-request): drop its live gauges from the shared
    metrics directory, or a request it was answering would count as in flight forever."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
