"""Settings for services under test: one JWT secret and one service secret for the whole session, cheap
bcrypt, quiet logs."""
from __future__ import annotations

import os
import secrets

from salesync_common.migrate import upgrade
from salesync_common.service_auth import SERVICE_TOKEN_HEADER, issue_service_token
from salesync_common.settings import Settings

TEST_JWT_SECRET = secrets.token_urlsafe(48)
# In the environment too: every process a test starts (gunicorn, the worker, the consumer) inherits it.
TEST_SERVICE_SECRET = os.environ.setdefault("SALESYNC_SERVICE_SECRET", secrets.token_urlsafe(48))
# Tests and sweeps sign many stores up from 127.0.0.1; the sign-up limit's own tests serve the default.
TEST_ENV = {"SALESYNC_JWT_SECRET": TEST_JWT_SECRET, "SALESYNC_SERVICE_SECRET": TEST_SERVICE_SECRET,
            "SALESYNC_SIGNUP_MAX_PER_ADDRESS": "1000000"}


def settings_for_tests(service: str, database_url: str | None, **overrides) -> Settings:
    # An app served in the test process answers as many requests at once as a test starts (ten and more),
    # not gunicorn's four threads: it may open that many connections. Overflow ones close when returned,
    # so the many apps of a test session keep few idle connections (the test server allows 100).
    values = dict(database_url=database_url, jwt_secret=TEST_JWT_SECRET, bcrypt_rounds=4,
                  environment="test", log_level="WARNING", db_max_overflow=12)
    values.update(overrides)
    return Settings.from_env(service, env=TEST_ENV, **values)


def migrated_settings(service: str, database_url: str, **overrides) -> Settings:
    """Settings for `service` on the test database, with its migrations applied."""
    settings = settings_for_tests(service, database_url, **overrides)
    upgrade(service, settings)
    return settings


def service_headers(audience: str, caller: str = "bff") -> dict[str, str]:
    """The header of a service token from `caller` to `audience`, as the service client sends it."""
    token = issue_service_token(issuer=caller, audience=audience, secret=TEST_SERVICE_SECRET)
    return {SERVICE_TOKEN_HEADER: token}
