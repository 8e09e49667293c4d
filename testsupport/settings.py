"""Settings for services under test: one JWT secret for the whole session, cheap bcrypt, quiet logs."""
from __future__ import annotations

import secrets

from salesync_common.migrate import upgrade
from salesync_common.settings import Settings

TEST_JWT_SECRET = secrets.token_urlsafe(48)


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
