"""A service over real HTTP on a free loopback port: in a thread of the test process (ServedApp), or
under gunicorn in a process of its own that can really die (ServiceProcess)."""
from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http import HTTPStatus

import requests
from werkzeug.serving import make_server

from salesync_common import roster
from salesync_common.migrate import REPO_ROOT
from salesync_common.settings import Settings

from .settings import TEST_ENV, migrated_settings, settings_for_tests


class ServedApp:
    """A Flask app served over real HTTP on a free loopback port, in a thread of the test process."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def shutdown(self):
        self.server.shutdown()
        self.server.server_close()


def local_service_urls(**served: ServedApp) -> dict[str, str]:
    """The default service addresses, with the given running services put in."""
    urls = dict(Settings.from_env("store", env=TEST_ENV).service_urls)
    urls.update({name: app.url for name, app in served.items()})
    return urls


def serve_service(service: str, database_url: str, *, overrides: dict | None = None,
                  **dependencies: ServedApp) -> ServedApp:
    """Migrate and serve `service` over HTTP, calling the given running services (the BFF has no database);
    `overrides` changes some of its settings."""
    package = importlib.import_module(f"{roster.BY_NAME[service].package}.app")
    urls = local_service_urls(**dependencies)
    if service == "bff":
        return ServedApp(package.create_app(settings_for_tests(service, None, service_urls=urls, **(overrides or {}))))
    settings = migrated_settings(service, database_url, service_urls=urls, **(overrides or {}))
    kwargs = {"reconcile_every": 0} if service == "sale" else {}
    return ServedApp(package.create_app(settings, **kwargs))


class ServiceProcess:
    """A service running under gunicorn in its own process (it can really die), ready when constructed."""

    def __init__(self, service: str, database_url: str, *, env: dict[str, str] | None = None, workers: int = 1):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        full_env = {**os.environ, "DATABASE_URL": database_url, **TEST_ENV,
                    "SALESYNC_BCRYPT_ROUNDS": "4", "SALESYNC_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO_ROOT),
                    **(env or {})}
        # A file, not a pipe: nobody reads the log while the service runs, and a full pipe would stall it.
        # The service writes to its own copy of the file; this one is read only when it does not start.
        with tempfile.TemporaryFile(mode="w+") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                 "--no-control-socket", "--config", "python:salesync_common.gunicorn_config",
                 roster.BY_NAME[service].wsgi],
                cwd=REPO_ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=log, text=True)
            self._wait_until_ready(service, log)

    def _wait_until_ready(self, service: str, log) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(self.url + "/readyz", timeout=2).status_code == HTTPStatus.OK:
                    return
            except requests.RequestException:  # not listening yet, or busy starting
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log.seek(0)
                raise RuntimeError(f"{service} did not start: {log.read()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
