"""gunicorn settings every service shares (`gunicorn --config python:salesync_common.gunicorn_config`).

A server hook, and the keep-alive every service needs the same. The bind address, workers and threads
stay on the command line, where the Dockerfiles and `make run` set them from the environment.
"""
from __future__ import annotations

import os

from prometheus_client import multiprocess

from salesync_common.settings import int_setting

# An idle keep-alive connection stays open this long (gunicorn's own default is 2 s). The BFF and the services
# keep pooled connections to each other; one closed by the server just as the caller reuses it fails a POST
# that is never retried, so the server must outlast the caller's idle gaps, not the other way round.
env = os.environ
keepalive = int_setting(env, "SALESYNC_KEEPALIVE_SECONDS", 75, minimum=1)

# Each worker tells the master it is alive by touching a file, on every turn of its loop (every request
# under load). In memory (/dev/shm, present in Docker and Kubernetes pods) that costs no disk metadata write.
if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    worker_tmp_dir = "/dev/shm"


def child_exit(server, worker):
    """A worker is gone (restarted, or killed mid-request): drop its live gauges from the shared
    metrics directory, or a request it was answering would count as in flight forever."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
