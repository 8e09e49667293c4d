"""pytest fixtures every service's tests share (loaded by the top-level conftest.py).

Tests run against a real PostgreSQL: SALESYNC_TEST_DATABASE_URL when set, otherwise a
throwaway embedded server. Either way the session gets a fresh database of its own.
"""
from __future__ import annotations

import importlib
import itertools
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pytest
import requests
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from . import roster
from .migrate import REPO_ROOT, upgrade
from .settings import Settings

TEST_JWT_SECRET = secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def database_url():
    from local_run.postgres import drop_database, ensure_database, start_embedded

    server_url = os.environ.get("SALESYNC_TEST_DATABASE_URL")
    server = None
    if not server_url:
        # Not under pytest's basetemp: another pytest session on this machine prunes old basetemps
        # (it keeps three), and took this server's data and socket away in the middle of a run.
        folder = pathlib.Path(tempfile.mkdtemp(prefix="salesync-test-pg-"))
        server, server_url = start_embedded(folder / "data", delete_on_exit=True)
    name = f"salesync_test_{uuid.uuid4().hex[:8]}"
    url = ensure_database(server_url, name)
    yield url
    drop_database(server_url, name)
    if server is not None:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def settings_for_tests(service: str, database_url: str | None, **overrides) -> Settings:
    values = dict(database_url=database_url, jwt_secret=TEST_JWT_SECRET, bcrypt_rounds=4,
                  environment="test", log_level="WARNING")
    values.update(overrides)
    return Settings.from_env(service, env={"SALESYNC_JWT_SECRET": TEST_JWT_SECRET}, **values)


def migrated_settings(service: str, database_url: str, **overrides) -> Settings:
    """Settings for `service` on the test database, with its migrations applied."""
    settings = settings_for_tests(service, database_url, **overrides)
    upgrade(service, settings)
    return settings



class CheckedClient(FlaskClient):
    """A test client that fails the test on any 500 and on any error that is not JSON.

    502, 503 and 504 stay allowed: they are how a service reports a failed call downstream.
    """

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        assert response.status_code not in (500, 501), \
            f"server error {response.status_code}: {response.get_data(as_text=True)}"
        if response.status_code >= 400:
            assert response.is_json, f"{response.status_code} is not JSON: {response.get_data(as_text=True)}"
            body = response.get_json()
            assert body["result"] == "failed" and body["error"] and body["message"], body
            assert "Traceback" not in response.get_data(as_text=True)
        return response


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


def local_service_urls(**served: "ServedApp") -> dict[str, str]:
    """The default service addresses, with the given running services put in."""
    urls = dict(Settings.from_env("store", env={"SALESYNC_JWT_SECRET": TEST_JWT_SECRET}).service_urls)
    urls.update({name: app.url for name, app in served.items()})
    return urls


def serve_service(service: str, database_url: str, **dependencies: "ServedApp") -> "ServedApp":
    """Migrate and serve `service` over HTTP, calling the given running services."""
    package = importlib.import_module(f"{roster.BY_NAME[service].package}.app")
    settings = migrated_settings(service, database_url, service_urls=local_service_urls(**dependencies))
    kwargs = {"reconcile_every": 0} if service == "sale" else {}
    return ServedApp(package.create_app(settings, **kwargs))


@pytest.fixture(scope="session")
def store_service(database_url):
    """The real store service over HTTP (migrated), for tests of services that call it."""
    served = serve_service("store", database_url)
    yield served
    served.shutdown()


@pytest.fixture(scope="session")
def item_service(database_url, store_service):
    served = serve_service("item", database_url, store=store_service)
    yield served
    served.shutdown()


@pytest.fixture(scope="session")
def order_service(database_url, store_service, item_service):
    served = serve_service("order", database_url, store=store_service, item=item_service)
    yield served
    served.shutdown()


@pytest.fixture(scope="session")
def sale_service(database_url, store_service, item_service, order_service):
    served = serve_service("sale", database_url, store=store_service, item=item_service, order=order_service)
    yield served
    served.shutdown()


@pytest.fixture(scope="session")
def dashboard_service(database_url, store_service, item_service, order_service, sale_service):
    served = serve_service("dashboard", database_url, store=store_service, item=item_service,
                           order=order_service, sale=sale_service)
    yield served
    served.shutdown()


@pytest.fixture(scope="session")
def kafka_broker():
    """A real Kafka-protocol broker (Tansu) on a free loopback port, with the consulting topic."""
    from local_run.kafka_broker import LocalBroker

    broker = LocalBroker().start()
    yield broker
    broker.stop()


@pytest.fixture
def own_kafka_broker():
    """A broker for one test, which it may stop and restart at will."""
    from local_run.kafka_broker import LocalBroker

    broker = LocalBroker().start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def new_store(store_service):
    """Sign a new store up through the real store service; returns (store_id, Authorization headers)."""
    counter = itertools.count(1)

    def _new_store(time_zone: str = "Asia/Seoul", **changes):
        n = next(counter)
        body = {
            "username": f"owner{uuid.uuid4().hex[:6]}{n}",
            "password": "Passw0rd!23",
            "owner_name": "홍길동",
            "phone": "01012345678",
            "store_name": f"테스트가게{n}",
            "address": "서울시 중구",
            "store_type": "일반음식점",
            "time_zone": time_zone,
            **changes,
        }
        response = requests.post(store_service.url + "/stores/", json=body, timeout=10)
        assert response.status_code == 201, response.text
        token = response.json()["token"]["access_token"]
        return response.json()["store_id"], {"Authorization": f"Bearer {token}"}

    return _new_store


class ServiceProcess:
    """A service running under gunicorn in its own process (it can really die), ready when constructed."""

    def __init__(self, service: str, database_url: str, *, env: dict[str, str] | None = None, workers: int = 1):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        full_env = {**os.environ, "DATABASE_URL": database_url, "SALESYNC_JWT_SECRET": TEST_JWT_SECRET,
                    "SALESYNC_BCRYPT_ROUNDS": "4", "SALESYNC_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO_ROOT),
                    **(env or {})}
        # A file, not a pipe: nobody reads the log while the service runs, and a full pipe would stall it.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
             "--no-control-socket", "--config", "python:salesync_common.gunicorn_config",
             roster.BY_NAME[service].wsgi],
            cwd=REPO_ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=self.log, text=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or busy starting
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                self.log.seek(0)
                raise RuntimeError(f"{service} did not start: {self.log.read()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
