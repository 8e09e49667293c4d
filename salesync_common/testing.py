"""pytest fixtures every service's tests share (loaded by the top-level conftest.py).

Tests run against a real PostgreSQL: SALESYNC_TEST_DATABASE_URL when set, otherwise a
throwaway embedded server. Either way the session gets a fresh database of its own.
"""
from __future__ import annotations

import os
import secrets
import uuid

import pytest
from flask.testing import FlaskClient

from .migrate import upgrade
from .settings import Settings

TEST_JWT_SECRET = secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    from local_run.postgres import drop_database, ensure_database, start_embedded

    server_url = os.environ.get("SALESYNC_TEST_DATABASE_URL")
    server = None
    if not server_url:
        server, server_url = start_embedded(tmp_path_factory.mktemp("pg") / "data", delete_on_exit=True)
    name = f"salesync_test_{uuid.uuid4().hex[:8]}"
    url = ensure_database(server_url, name)
    yield url
    drop_database(server_url, name)
    if server is not None:
        server.cleanup()


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
